// The pages' words in Chinese (the default) and English; the choice is kept on the device.
const WORDS = {
  zh: {
    app: "我的城市", scanner: "合作方扫码核验", language: "English", phone: "手机号", sendCode: "获取验证码",
    code: "验证码", logIn: "登录", logOut: "退出登录", codeSent: "验证码已发送", tabCode: "城市码", tabWallet: "亮证",
    tabApply: "办事", tabMoney: "支付与信用", tabMe: "我的", cityCode: "一码通城", validFor: "秒后刷新",
    offline: "离线：此码在有效期内仍可使用", cannotRefresh: "无法刷新：请联网后重试", cards: "已关联卡证",
    green: "绿码", yellow: "黄码", red: "红码", social_security: "社保卡", e_health: "电子健康卡", library: "读者证", transit: "交通卡",
    licences: "我的证照", show: "出示", fieldsToShow: "选择要出示的字段", present: "生成亮证码", uses: "用证记录",
    none: "暂无", catalogue: "办事指南", department: "部门", item: "事项", fee: "费用", apply: "提交申请",
    materials: "材料", myApplications: "我的申请", status: "状态", waitingFor: "待补", rate: "评价", submitted: "已提交",
    bills: "待缴账单", pay: "缴费", paid: "已支付", payments: "支付记录", credit: "信用分", tier: "等级", benefits: "信用权益",
    history: "信用记录", accesses: "谁查看了我的数据", purpose: "用途", closeAccount: "注销账号",
    closeWarning: "注销后个人数据将被销毁，法定记录按期保存。请输入手机验证码确认。", confirmClose: "确认注销",
    receipt: "注销回执", kept: "依法保留的记录", verify: "核验", offlineResult: "离线核验", onlineResult: "联网核验",
    clientId: "客户端 ID", clientSecret: "客户端密钥", pickImage: "从图片读取", camera: "打开摄像头", pasteText: "或粘贴码文本",
    valid: "有效", refused: "无效", until: "有效至", why: "查验事由", deviceFull: "设备存储已满：此扫码未能保存", queue: "待上传的离线扫码", upload: "上传", amount: "金额（分）", charge: "收款",
    place: "地点", scanPurpose: "用途", noCode: "图片中没有二维码", allowed: "放行", notAllowed: "不放行",
    SHORTFALL_ACCEPTANCE: "容缺受理", PAY_LATER_TRANSIT: "先乘后付", DEPOSIT_FREE_LIBRARY: "免押金借阅",
    EXCELLENT: "优秀", GOOD: "良好", NORMAL: "一般", RESTRICTED: "受限",
    AWAITING_CONFIRMATION: "待共同申请人确认", SUBMITTED: "已提交", CORRECTION_REQUESTED: "待补正", ACCEPTED: "已受理",
    APPROVED: "已批准", REJECTED: "不予批准", COMPLETED: "已办结", WITHDRAWN: "已撤回", LAPSED: "已失效", IN_PROGRESS: "办理中",
    VALID: "有效", SUSPENDED: "暂停", REVOKED: "已吊销", EXPIRED: "已过期", PENDING: "处理中", SUCCEEDED: "已支付",
    FAILED: "失败", UNPAID: "待缴", OVERDUE: "逾期", FEE: "办事费用", TILL: "消费", FARE: "乘车",
    VERY_SATISFIED: "非常满意", SATISFIED: "满意", BASICALLY_SATISFIED: "基本满意", DISSATISFIED: "不满意", VERY_DISSATISFIED: "非常不满意",
  },
  en: {
    app: "My City", scanner: "Partner scanner", language: "中文", phone: "Phone", sendCode: "Send code",
    code: "Code", logIn: "Log in", logOut: "Log out", codeSent: "Code sent", tabCode: "City code", tabWallet: "Wallet",
    tabApply: "Services", tabMoney: "Pay & credit", tabMe: "Me", cityCode: "City code", validFor: "s to refresh",
    offline: "Offline: this code still works until it expires", cannotRefresh: "Cannot refresh: connect and try again",
    cards: "Cards", green: "Green", yellow: "Yellow", red: "Red", social_security: "Social security card",
    e_health: "E-health card", library: "Library card", transit: "Transit card", licences: "My licences", show: "Show",
    fieldsToShow: "Fields to show", present: "Make the code", uses: "Licence uses", none: "None", catalogue: "Services",
    department: "Department", item: "Item", fee: "Fee", apply: "Apply", materials: "Materials",
    myApplications: "My applications", status: "Status", waitingFor: "Waiting for", rate: "Rate", submitted: "Submitted",
    bills: "Bills", pay: "Pay", paid: "Paid", payments: "Payments", credit: "Credit score", tier: "Tier",
    benefits: "Benefits", history: "History", accesses: "Who read my data", purpose: "Purpose",
    closeAccount: "Close my account",
    closeWarning: "Closing erases your personal data; statutory records are kept for their periods. Enter a phone code to confirm.",
    confirmClose: "Close it", receipt: "Receipt", kept: "Records kept by law", verify: "Verify",
    offlineResult: "Offline check", onlineResult: "Online check", clientId: "Client ID", clientSecret: "Client secret",
    pickImage: "Read from an image", camera: "Open the camera", pasteText: "or paste the code's text", valid: "Valid", until: "Valid until", why: "Why you read it", deviceFull: "The device is full: this scan could not be kept",
    refused: "Refused", queue: "Offline scans to upload", upload: "Upload", amount: "Amount (fen)", charge: "Charge",
    place: "Place", scanPurpose: "Purpose", noCode: "No QR code in the image", allowed: "Open", notAllowed: "Do not open",
    SHORTFALL_ACCEPTANCE: "Acceptance with a material owed", PAY_LATER_TRANSIT: "Ride now, pay later",
    DEPOSIT_FREE_LIBRARY: "Library without a deposit", EXCELLENT: "Excellent", GOOD: "Good", NORMAL: "Normal",
    RESTRICTED: "Restricted", AWAITING_CONFIRMATION: "Awaiting the co-applicant", SUBMITTED: "Submitted",
    CORRECTION_REQUESTED: "Correction requested", ACCEPTED: "Accepted", APPROVED: "Approved", REJECTED: "Rejected",
    COMPLETED: "Completed", WITHDRAWN: "Withdrawn", LAPSED: "Lapsed", IN_PROGRESS: "In progress", VALID: "Valid",
    SUSPENDED: "Suspended", REVOKED: "Revoked", EXPIRED: "Expired", PENDING: "Pending", SUCCEEDED: "Paid", FAILED: "Failed",
    UNPAID: "Unpaid", OVERDUE: "Overdue", FEE: "Fee", TILL: "Shop", FARE: "Fare", VERY_SATISFIED: "Very satisfied", SATISFIED: "Satisfied",
    BASICALLY_SATISFIED: "Basically satisfied", DISSATISFIED: "Dissatisfied", VERY_DISSATISFIED: "Very dissatisfied",
  },
};

let language = localStorage.getItem("mycity.language") === "en" ? "en" : "zh";

export const t = (key) => WORDS[language][key] ?? key;

/** Put the words in every element that names one (`data-i18n`, `data-i18n-label`). */
export function translate(root = document) {
  document.documentElement.lang = language === "zh" ? "zh-CN" : "en";
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-label]")) el.setAttribute("aria-label", t(el.dataset.i18nLabel));
}

export function switchLanguage() {
  language = language === "zh" ? "en" : "zh";
  localStorage.setItem("mycity.language", language);
  translate();
}

/** Fen as yuan, for people (the API speaks fen). */
export const yuan = (fen) => `¥${(fen / 100).toFixed(2)}`;

/** A moment as the city's local time. */
export const when = (iso) => new Date(iso).toLocaleString(language === "zh" ? "zh-CN" : "en-GB", { timeZone: "Asia/Shanghai" });
