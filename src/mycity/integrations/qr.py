"""QR codes: drawn as PNG for the app, and read back from an image by a real decoder.

Rendering is pure Python and slow (tens of milliseconds for a large code), so it happens
only when a caller asks for the picture; level M, as the codes we print are read from
phone screens, or L for a text only L holds (a licence presentation may take up to 4,296
characters, version 40-L's capacity; 40-M holds 3,391). Reading uses zxing-cpp, the
decoder partners' scanners are built on.
"""

from __future__ import annotations

import io

import qrcode
import zxingcpp
from PIL import Image, UnidentifiedImageError
from qrcode.image.pure import PyPNGImage


def render_png(text: str, *, box_size: int = 4) -> bytes:
    try:
        code = _fitted(text, qrcode.constants.ERROR_CORRECT_M, box_size)
    except ValueError:  # qrcode's "Invalid version (was 41 …)": more than 40-M holds
        code = _fitted(text, qrcode.constants.ERROR_CORRECT_L, box_size)
    out = io.BytesIO()
    code.make_image().save(out)
    return out.getvalue()


def _fitted(text: str, level: int, box_size: int) -> qrcode.QRCode:
    """The smallest code of `text` at that error correction level."""
    code = qrcode.QRCode(
        error_correction=level, image_factory=PyPNGImage, box_size=box_size, border=4
    )
    code.add_data(text)
    code.make(fit=True)
    return code


def read_image(data: bytes) -> list[str]:
    """The text of every QR code in the image (none if it is not an image). Only QR codes
    are looked for: a QR code's modules can pass for a one-dimensional barcode (an EAN-13
    was once read out of a licence presentation's)."""
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except (UnidentifiedImageError, OSError):
        return []
    qr_only = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
    found = zxingcpp.read_barcodes(image, formats=qr_only)
    return [code.text for code in found if code.text]
