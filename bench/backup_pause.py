"""How long intake waits for `leakline backup` while serve runs on a loaded store.

Usage: python bench/backup_pause.py [DATA_DIR]   (default /tmp/i15b-bench-10k, made by
bench/loader.py). Serve runs on DATA_DIR; a report is sent idle, then 1 s into each of two
backups: when its 250 came and when intake had taken it from the spool.
"""
import json, smtplib, subprocess, sys, time, os
from pathlib import Path
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests")); sys.path.insert(0, str(ROOT))
from mailbuilders import plain_mail
from conftest import free_port
port = free_port()
DATA = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/i15b-bench-10k")
cfg = Path("/tmp/i15b-pause.toml")
cfg.write_text(f'[service]\ndata_dir = "{DATA}"\nlisten = "127.0.0.1:{port}"\n')
env = {**os.environ, "PYTHONPATH": str(ROOT)}
py = sys.executable
serve = subprocess.Popen([py, "-m", "leakline", "--config", str(cfg), "serve"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
serve.stdout.readline()
def send(n):
    raw = plain_mail(f"誤送信 {n}", "顧客名簿を誤送信しました。", sender="taro@example.com", message_id=f"<pause-{n}-{time.time()}@x>")
    with smtplib.SMTP("127.0.0.1", port, timeout=60) as c:
        c.sendmail("taro@example.com", ["incident@example.com"], raw)
def waiting():
    return len([p for p in (DATA / "spool" / "new").iterdir()])
try:
    t0 = time.monotonic(); send(0)
    while waiting(): time.sleep(0.05)
    idle = time.monotonic() - t0
    for run in range(2):
        target = f"/tmp/i15b-pause-bk{run}"
        subprocess.run(["rm", "-rf", target])
        b0 = time.monotonic()
        backup = subprocess.Popen([py, "-m", "leakline", "--config", str(cfg), "backup", target], stdout=subprocess.DEVNULL, env=env)
        time.sleep(1.0)
        s0 = time.monotonic(); send(run + 1); acked = time.monotonic() - s0
        while waiting(): time.sleep(0.05)
        done = time.monotonic() - s0
        backup.wait(); b = time.monotonic() - b0
        print(json.dumps({"run": run, "smtp_250_s": round(acked, 2), "report_to_spool_empty_s": round(done, 1), "backup_s": round(b, 1), "idle_report_s": round(idle, 1)}))
finally:
    serve.terminate(); serve.wait(90)
