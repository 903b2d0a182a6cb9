"""The scanner reads a code from the camera: Chromium's fake camera plays a video of the
citizen's code on screen (a Y4M file), and the page finds it in the frames."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, Playwright

from tests.app.conftest import Demo, launch, scanner_for


def y4m(png: bytes, path: Path) -> Path:
    """One frame of video in YUV4MPEG2 (4:2:0), which Chromium's fake camera plays in a loop."""
    picture = Image.open(io.BytesIO(png)).convert("RGB")
    width, height = picture.width + picture.width % 2, picture.height + picture.height % 2
    framed = Image.new("RGB", (width + 160, height + 160), "white")
    framed.paste(picture, (80, 80))
    y, cb, cr = framed.convert("YCbCr").split()
    half = (framed.width // 2, framed.height // 2)
    header = f"YUV4MPEG2 W{framed.width} H{framed.height} F10:1 Ip A1:1 C420jpeg\n"
    frame = b"FRAME\n" + y.tobytes() + cb.resize(half).tobytes() + cr.resize(half).tobytes()
    path.write_bytes(header.encode() + frame)
    return path


@pytest.fixture
def camera_browser(playwright: Playwright, app: Page, tmp_path: Path) -> Iterator[Browser]:
    """A second Chromium whose camera films the code on the citizen's screen."""
    video = y4m(app.locator("#code-qr").screenshot(), tmp_path / "code.y4m")
    chromium = launch(playwright, f"--use-file-for-fake-video-capture={video}")
    yield chromium
    chromium.close()


def test_the_camera_reads_the_code_and_the_page_verifies_it(
    camera_browser: Browser, demo: Demo
) -> None:
    hospital = scanner_for(camera_browser, demo, "hospital-first-01")
    hospital.context.grant_permissions(["camera"])
    hospital.click("#scan-camera")
    hospital.wait_for_selector("#offline-result:not([hidden])")
    assert hospital.get_attribute("#offline-result", "data-reason") == "valid"
    hospital.wait_for_selector("#online-result[data-reason=VALID]")
    assert hospital.is_hidden("#scan-video")  # the camera is let go once a code is read
    hospital.context.close()
