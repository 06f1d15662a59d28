#!/usr/bin/env python3
"""Screenshot a trace exported by ``trtscope export --format chrome-trace`` in an offline viewer.

Used to make the pictures in docs/exports.md. Perfetto UI needs the network, and Debian's Chromium ships
without chrome://tracing (its catapult trace viewer is patched out), so the viewer is **speedscope** — a
static web app that reads Chrome Trace Event JSON — installed from npm, never copied into this repository:

    apt-get install -y chromium
    npm install -g speedscope            # or: npm install --prefix /tmp/viewers speedscope
    python scripts/screenshot_trace.py trace.json docs/img/perfetto-....png --thread 2 --zoom 3

speedscope shows one track (pid/tid) at a time as a flame chart; ``--thread N`` steps to the N-th track
(``n`` key), ``--zoom``/``--pan`` press ``=``/right-arrow. Headless Chromium is driven over the DevTools
protocol on a pipe (``--remote-debugging-pipe``), so nothing but the standard library is needed.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

CHROMIUM_FLAGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync", "--allow-file-access-from-files",
    "--remote-debugging-pipe",
]
KEYS = {
    "n": {"key": "n", "code": "KeyN", "text": "n", "windowsVirtualKeyCode": 78},
    "=": {"key": "=", "code": "Equal", "text": "=", "windowsVirtualKeyCode": 187},
    "right": {"key": "ArrowRight", "code": "ArrowRight", "windowsVirtualKeyCode": 39},
}


class Browser:
    """Headless Chromium with the DevTools protocol on fds 3/4 (NUL-separated JSON messages)."""

    def __init__(self, exe: str, width: int, height: int) -> None:
        self.profile = tempfile.mkdtemp(prefix="trtscope-shot-")
        to_chrome_r, to_chrome_w = os.pipe()
        from_chrome_r, from_chrome_w = os.pipe()

        def wire() -> None:  # in the child: the protocol pipes become fds 3 and 4
            os.dup2(to_chrome_r, 3)
            os.dup2(from_chrome_w, 4)

        self.proc = subprocess.Popen(
            [exe, *CHROMIUM_FLAGS, f"--user-data-dir={self.profile}", f"--window-size={width},{height}",
             "about:blank"],
            pass_fds=(3, 4), preexec_fn=wire, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self.w, self.r = to_chrome_w, from_chrome_r
        self.buf = b""
        self.next_id = 0
        self.session: str | None = None

    def call(self, method: str, params: dict[str, Any] | None = None, session: bool = True) -> dict[str, Any]:
        self.next_id += 1
        msg: dict[str, Any] = {"id": self.next_id, "method": method, "params": params or {}}
        if session and self.session:
            msg["sessionId"] = self.session
        os.write(self.w, json.dumps(msg).encode() + b"\0")
        while True:
            reply = self._read()
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})  # type: ignore[no-any-return]

    def _read(self) -> dict[str, Any]:
        while b"\0" not in self.buf:
            chunk = os.read(self.r, 1 << 20)
            if not chunk:
                raise RuntimeError("chromium closed the DevTools pipe")
            self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)  # type: ignore[no-any-return]

    def open(self, url: str) -> None:
        target = self.call("Target.createTarget", {"url": "about:blank"}, session=False)["targetId"]
        self.session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True}, session=False)[
            "sessionId"
        ]
        self.call("Page.enable")
        self.call("Page.navigate", {"url": url})

    def evaluate(self, expression: str) -> Any:
        return self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True})["result"].get("value")

    def press(self, name: str) -> None:
        k = KEYS[name]
        self.call("Input.dispatchKeyEvent", {"type": "keyDown", **k})
        self.call("Input.dispatchKeyEvent", {"type": "keyUp", **{x: v for x, v in k.items() if x != "text"}})

    def screenshot(self, out: Path) -> None:
        data = self.call("Page.captureScreenshot", {"format": "png"})["data"]
        out.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()
        shutil.rmtree(self.profile, ignore_errors=True)


def find_speedscope(given: str | None) -> Path:
    candidates = [given, os.environ.get("SPEEDSCOPE_DIR")]
    try:
        root = subprocess.run(["npm", "root", "-g"], capture_output=True, text=True, check=False).stdout.strip()
        candidates.append(os.path.join(root, "speedscope"))
    except OSError:
        pass
    for c in candidates:
        if not c:
            continue
        for sub in ("", "dist/release", "node_modules/speedscope/dist/release"):
            index = Path(c) / sub / "index.html"
            if index.is_file():
                return index
    sys.exit("speedscope not found: npm install -g speedscope (or pass --speedscope DIR)")


def crop(data: bytes, lo: float, hi: float) -> bytes:
    """The trace with only the slices/instants/counters that overlap [lo, hi] µs (metadata kept)."""
    doc = json.loads(data)
    events = doc["traceEvents"] if isinstance(doc, dict) else doc

    def keep(e: dict[str, Any]) -> bool:
        if e.get("ph") == "M":
            return True
        ts = float(e.get("ts", 0))
        return ts <= hi and ts + float(e.get("dur", 0)) >= lo

    kept = [e for e in events if keep(e)]
    return json.dumps({**doc, "traceEvents": kept} if isinstance(doc, dict) else kept).encode()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("trace", type=Path, help="a Chrome Trace Event JSON file (trtscope export --format chrome-trace)")
    ap.add_argument("out", type=Path, help="PNG to write")
    ap.add_argument("--speedscope", help="speedscope package directory (default: $SPEEDSCOPE_DIR or npm root -g)")
    ap.add_argument("--chromium", default=shutil.which("chromium") or "chromium")
    ap.add_argument("--size", default="1600x900", help="window size WxH (default 1600x900)")
    ap.add_argument("--thread", type=int, default=0, help="step to the N-th track (0 = first)")
    ap.add_argument("--zoom", type=int, default=0, help="zoom-in key presses")
    ap.add_argument("--pan", type=int, default=0, help="right-arrow key presses after zooming")
    ap.add_argument("--window", metavar="FROM:TO",
                    help="keep only slices overlapping this span (µs, as in the trace) — speedscope's zoom keys "
                         "centre on the middle, so a crop is the simple way to show one iteration")
    ap.add_argument("--wait", type=float, default=3.0, help="seconds to let the viewer render")
    args = ap.parse_args()

    index = find_speedscope(args.speedscope)
    width, height = (int(x) for x in args.size.lower().split("x"))
    with tempfile.TemporaryDirectory(prefix="trtscope-shot-") as tmp:
        # speedscope's own command-line loader does exactly this: a script that hands it the file in base64
        loader = Path(tmp) / "load.js"
        data = args.trace.read_bytes()
        if args.window:
            data = crop(data, *(float(x) for x in args.window.split(":")))
        payload = base64.b64encode(data).decode()
        loader.write_text(f"speedscope.loadFileFromBase64({json.dumps(args.trace.name)}, {json.dumps(payload)})")
        browser = Browser(args.chromium, width, height)
        try:
            browser.open(f"{index.resolve().as_uri()}#localProfilePath={loader}")
            deadline = time.time() + 30
            while time.time() < deadline and not browser.evaluate("document.querySelectorAll('canvas').length > 0"):
                time.sleep(0.2)
            time.sleep(args.wait)
            for _ in range(args.thread):
                browser.press("n")
                time.sleep(0.3)
            for _ in range(args.zoom):
                browser.press("=")
                time.sleep(0.2)
            for _ in range(args.pan):
                browser.press("right")
                time.sleep(0.1)
            time.sleep(1.0)
            title = browser.evaluate("document.body.innerText.split('\\n').slice(0, 8).join(' | ')")
            args.out.parent.mkdir(parents=True, exist_ok=True)
            browser.screenshot(args.out)
        finally:
            browser.close()
    print(f"wrote {args.out} ({args.trace.name} in speedscope {index.parent}; view: {title})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
