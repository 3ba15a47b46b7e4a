#!/usr/bin/env python3
"""Issue 13's acceptance over real Syncthing: two instances (Debian's `syncthing`), each with
its own home, talking over 127.0.0.1 only (global and local discovery, relays, NAT
traversal, usage reporting and upgrades off), share one folder. On the field side two laptop
databases sync into their copy; Syncthing carries the bundles to the office side, where
`masar sync --watch --merged` imports them as they land; its merged export, with the
supervisor's own work, travels back, and all three digests end equal. The test bounds its own time and
stops both instances and the watcher whatever happens.

Run: python3 tests/syncthing/test_sync.py   (after `cargo build`; MASAR_BIN overrides)
"""

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import xml.etree.ElementTree as ET

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MASAR = os.environ.get("MASAR_BIN", os.path.join(ROOT, "target", "debug", "masar"))
PASSWORD = "syncthing-test-password-1"
FOLDER_ID = "masar-sync"
LIMIT_S = 300
STARTED = time.monotonic()


def left() -> float:
    """Seconds left of the test's own time limit."""
    return LIMIT_S - (time.monotonic() - STARTED)


def until(what, check, timeout=60.0, every=0.2):
    """Waits for `check()` to be truthy, within `timeout` and the test's limit."""
    end = time.monotonic() + min(timeout, left())
    last = None
    while time.monotonic() < end:
        try:
            last = check()
            if last:
                return last
        except Exception as e:  # an API not up yet, a database busy for a moment
            last = e
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


def free_ports(n):
    """`n` distinct free TCP ports on 127.0.0.1 (all bound at once, then released)."""
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


class Syncthing:
    """One Syncthing instance with its own home and its own copy of the shared folder."""

    def __init__(self, work, name):
        self.name = name
        self.home = os.path.join(work, name, "home")
        self.folder = os.path.join(work, name, "folder")
        os.makedirs(self.folder)
        self.log = open(os.path.join(work, f"{name}.log"), "w")
        out = subprocess.run(["syncthing", "generate", f"--home={self.home}", "--no-default-folder", "--skip-port-probing"],
                             capture_output=True, text=True, check=True)
        self.id = next(l.split("Device ID:")[1].strip() for l in (out.stdout + out.stderr).splitlines() if "Device ID:" in l)
        self.process = None

    def configure(self, gui_port, listen_port, peer, peer_port):
        """Writes the loopback-only configuration before the first start, so that nothing
        is ever announced or looked up outside this machine."""
        self.api_base = f"http://127.0.0.1:{gui_port}"
        self.key = secrets.token_hex(16)
        path = os.path.join(self.home, "config.xml")
        tree = ET.parse(path)
        root = tree.getroot()

        def set_child(parent, tag, text):
            for old in parent.findall(tag):
                parent.remove(old)
            ET.SubElement(parent, tag).text = text

        gui = root.find("gui")
        set_child(gui, "address", f"127.0.0.1:{gui_port}")
        set_child(gui, "apikey", self.key)
        options = root.find("options")
        for tag, value in {
            "listenAddress": f"tcp://127.0.0.1:{listen_port}",
            "globalAnnounceEnabled": "false",
            "localAnnounceEnabled": "false",
            "relaysEnabled": "false",
            "natEnabled": "false",
            "urAccepted": "-1",
            "crashReportingEnabled": "false",
            "autoUpgradeIntervalH": "0",
            "startBrowser": "false",
            "reconnectionIntervalS": "1",
        }.items():
            set_child(options, tag, value)
        # The peer and the folder start from Syncthing's own templates: an element left
        # out reads as zero (maxConflicts=0 would delete a conflict's losing file).
        device = ET.fromstring(ET.tostring(root.find("defaults/device")))
        device.set("id", peer.id)
        device.set("name", peer.name)
        set_child(device, "address", f"tcp://127.0.0.1:{peer_port}")
        root.insert(1, device)
        folder = ET.fromstring(ET.tostring(root.find("defaults/folder")))
        folder.attrib.update(id=FOLDER_ID, label=FOLDER_ID, path=self.folder, type="sendreceive",
                             rescanIntervalS="5", fsWatcherEnabled="true", fsWatcherDelayS="1")
        mine = folder.find("device")
        theirs = ET.fromstring(ET.tostring(mine))
        theirs.set("id", peer.id)
        folder.insert(list(folder).index(mine) + 1, theirs)
        versioning = folder.find("versioning")
        if versioning is not None:
            versioning.attrib.pop("type", None)
        root.insert(0, folder)
        tree.write(path)

    def start(self):
        env = dict(os.environ, STMONITORED="1", STNOUPGRADE="1", STHASHING="standard", STNODEFAULTFOLDER="1")
        self.process = subprocess.Popen(["syncthing", "serve", f"--home={self.home}", "--no-browser", "--no-restart", "--logflags=0"],
                                        stdout=self.log, stderr=subprocess.STDOUT, env=env, stdin=subprocess.DEVNULL)

    def api(self, path, method="GET"):
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        request = urllib.request.Request(self.api_base + path, method=method, headers={"X-API-Key": self.key})
        with opener.open(request, timeout=5) as r:
            body = r.read()
        return json.loads(body) if body else None

    def ready(self, peer):
        connected = self.api("/rest/system/connections")["connections"].get(peer.id, {}).get("connected")
        return connected and self.api(f"/rest/db/status?folder={FOLDER_ID}")["state"] == "idle"

    def scan(self):
        """Asks for a scan now rather than after the watcher's one-second delay."""
        try:
            self.api(f"/rest/db/scan?folder={FOLDER_ID}", method="POST")
        except Exception:
            pass

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def masar(db, *args, user="admin", extra=None):
    env = dict(os.environ, MASAR_DB=db, MASAR_USER=user, MASAR_PASSWORD=PASSWORD, MASAR_ENROL_PASSPHRASE="syncthing passphrase")
    env.pop("MASAR_CLOCK", None)
    env.update(extra or {})
    out = subprocess.run([MASAR, "--json", *args], capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL, timeout=max(5, left()))
    if out.returncode != 0:
        raise AssertionError(f"masar {' '.join(args)}: {out.stderr}")
    return json.loads(out.stdout)


def persons(db):
    return {p["given"] for p in masar(db, "person", "list")}


def main():
    work = tempfile.mkdtemp(prefix="masar-syncthing-")
    field, office = Syncthing(work, "field"), Syncthing(work, "office")
    watcher = None
    try:
        gui_f, listen_f, gui_o, listen_o = free_ports(4)
        field.configure(gui_f, listen_f, office, listen_o)
        office.configure(gui_o, listen_o, field, listen_f)
        field.start()
        until("the field instance's API", lambda: field.api("/rest/system/ping")["ping"] == "pong", 30)
        office.start()
        until("both instances connected and idle", lambda: field.ready(office) and office.ready(field), 60)
        for st in (field, office):
            options = st.api("/rest/config")["options"]
            for key, want in {"globalAnnounceEnabled": False, "localAnnounceEnabled": False, "relaysEnabled": False, "natEnabled": False,
                              "listenAddresses": [f"tcp://127.0.0.1:{listen_f if st is field else listen_o}"]}.items():
                assert options[key] == want, f"{st.name}: {key} is {options[key]!r}"

        # An organisation of three laptops: two in the field share the field copy, the
        # supervisor's machine has the office copy.
        founder, laptop, supervisor = (os.path.join(work, f"{n}.db") for n in ("founder", "laptop", "supervisor"))
        masar(founder, "init", "--org", "Syncthing programme", "--device", "founder")
        for db, name in ((laptop, "laptop"), (supervisor, "supervisor")):
            enrol = os.path.join(work, f"{name}.enrol")
            masar(founder, "enrol", "--out", enrol)
            masar(db, "init", "--join", enrol, "--device", name)

        watch_log = open(os.path.join(work, "watch.log"), "w")
        env = dict(os.environ, MASAR_DB=supervisor, MASAR_USER="admin", MASAR_PASSWORD=PASSWORD)
        watcher = subprocess.Popen([MASAR, "sync", "--folder", office.folder, "--watch", "--merged", "--every", "5"],
                                   stdout=watch_log, stderr=subprocess.STDOUT, env=env, stdin=subprocess.DEVNULL)

        for db, given in ((founder, "Amal"), (founder, "Bilal"), (laptop, "Chadia")):
            masar(db, "person", "add", "--given", given, "--family", "Field", "--sex", "female", "--born", "1990-01-01", "--nationality", "SYR")
        masar(founder, "sync", "--folder", field.folder)
        masar(laptop, "sync", "--folder", field.folder)
        field.scan()
        landed = time.monotonic()
        until("the supervisor's watcher to import the field's bundles", lambda: {"Amal", "Bilal", "Chadia"} <= persons(supervisor), 90)
        print(f"field → office → imported by the watcher in {time.monotonic() - landed:.1f} s")

        # The supervisor's own work goes out in its merged export of everybody's, and comes back.
        masar(supervisor, "person", "add", "--given", "Dalia", "--family", "Office", "--sex", "female", "--born", "1990-01-01", "--nationality", "SYR")
        device = masar(supervisor, "status")["device_id"]
        back = os.path.join(field.folder, "masar", device)

        def merged_back():
            office.scan()
            return os.path.isdir(back) and any(n.startswith("merged-") and n.endswith(".masar") for n in os.listdir(back))

        until("the supervisor's merged export to travel back to the field", merged_back, 90)

        def all_equal():
            office.scan()
            field.scan()
            masar(founder, "sync")
            masar(laptop, "sync")
            digests = {masar(db, "digest")["digest"] for db in (founder, laptop, supervisor)}
            return len(digests) == 1 and "Dalia" in persons(founder) and "Dalia" in persons(laptop)

        until("all three digests equal", all_equal, 120, every=1.0)
        print("all three laptops hold the same data:", masar(founder, "digest")["digest"])

        watcher.send_signal(signal.SIGTERM)
        code = watcher.wait(15)
        assert code == 0, f"the watcher ended with {code}"
        watcher = None
        lines = open(os.path.join(work, "watch.log")).read()
        assert lines.count("bundles read") >= 2 and "stopped: true" in lines, lines
        print("syncthing: two instances on loopback carried the bundles both ways; the watcher stopped cleanly")
        return 0
    finally:
        if watcher is not None and watcher.poll() is None:
            watcher.kill()
            watcher.wait()
        field.stop()
        office.stop()
        if os.environ.get("KEEP_WORK"):
            print("kept:", work)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except AssertionError as e:
        print(f"syncthing test failed: {e}", file=sys.stderr)
        sys.exit(1)
