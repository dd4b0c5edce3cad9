"""reader2's reads of subject 001 (Baseline, Week 8) through the API, so
that the best responses disagree with reader1's (SD) and an adjudication
opens. The responses are the engine's (readroom-cli criteria)."""
import json, subprocess, sys, urllib.request, uuid
URL = "http://127.0.0.1:18642"
CLI = "/work/wt/walk/build/src/cli/readroom-cli"
def call(method, path, body=None, token=None):
    req = urllib.request.Request(URL + path, method=method,
                                 data=json.dumps(body).encode() if body is not None else None)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    if method == "POST" and token:
        req.add_header("Idempotency-Key", str(uuid.uuid4()))
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read() or b"null")
tok = call("POST", "/readroom/v1/sessions", {"username": "reader2", "password": "readroom-demo"})["token"]
tasks = call("GET", "/readroom/v1/tasks", token=tok)
sizes = {"Baseline": (35.0, 22.0), "Week 8": (20.0, 12.0)}
for labels in (["Baseline"], ["Baseline", "Week 8"]):
    t = [t for t in tasks if t["subject"] == "001" and [x["label"] for x in t["timepoints"]] == labels][0]
    tps = [{"id": x["label"], "day": x["day"]} for x in t["timepoints"]]
    read = {"criteria": "recist1.1", "timepoints": tps,
            "target_lesions": [
                {"id": "T1", "organ": "liver", "nodal": False,
                 "measurements": {l: sizes[l][0] for l in labels}},
                {"id": "T2", "organ": "lung", "nodal": False,
                 "measurements": {l: sizes[l][1] for l in labels}}],
            "non_target_lesions": [{"id": "N1", "organ": "bone",
                                    "status": {l: "present" for l in labels}}],
            "new_lesions": []}
    with open("/tmp/walk-run/r2-read.json", "w") as f:
        json.dump(read, f)
    r = subprocess.run([CLI, "criteria", "--json", "/tmp/walk-run/r2-read.json"], capture_output=True, text=True)
    if r.returncode != 0:
        print(r.stdout, r.stderr); sys.exit(1)
    read["responses"] = json.loads(r.stdout)
    doc = call("POST", "/readroom/v1/tasks/%s/submission" % t["id"],
               {"read": read, "signature": {"password": "readroom-demo", "meaning": "Read"}},
               token=tok)
    print(labels, read["responses"].get("best_overall_response"), doc.get("id") if isinstance(doc, dict) else doc)
