#!/usr/bin/env python3
"""Artifacts for the workflow rehearsal's stand-ins of actions/upload-artifact@v4 and
actions/download-artifact@v4: talks to act's artifact server (act --artifact-server-path) with
the same calls the real actions make (CreateArtifact, the zip uploaded to the signed URL,
FinalizeArtifact; ListArtifacts, GetSignedArtifactURL, the zip downloaded).

    artifacts.py upload NAME PATH [warn|error|ignore]
    artifacts.py download PATTERN DEST
"""
import base64, fnmatch, io, json, os, sys, urllib.request, zipfile

SERVICE = "twirp/github.actions.results.api.v1.ArtifactService/"


def ids():
    """The run and job IDs the runtime token carries (scp: Actions.Results:<run>:<job>)."""
    token = os.environ["ACTIONS_RUNTIME_TOKEN"]
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    for scope in claims.get("scp", "").split():
        if scope.startswith("Actions.Results:"):
            _, run, job = scope.split(":")
            return run, job
    sys.exit("artifacts: the runtime token has no Actions.Results scope")


def call(method, body):
    base = os.environ.get("ACTIONS_RESULTS_URL") or os.environ["ACTIONS_RUNTIME_URL"]
    req = urllib.request.Request(base.rstrip("/") + "/" + SERVICE + method, data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json",
                                          "Authorization": "Bearer " + os.environ["ACTIONS_RUNTIME_TOKEN"]})
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read() or b"{}")


def put(url, data):
    req = urllib.request.Request(url, data=data, method="PUT", headers={"Content-Type": "application/octet-stream"})
    urllib.request.urlopen(req).read()


def upload(name, path, if_none="warn"):
    files = []
    if os.path.isdir(path):
        for root, _, names in os.walk(path):
            for n in names:
                full = os.path.join(root, n)
                files.append((full, os.path.relpath(full, path)))
    elif os.path.isfile(path):
        files.append((path, os.path.basename(path)))
    if not files:
        msg = f"artifacts: no files at {path} for artifact {name}"
        if if_none == "error":
            sys.exit(msg)
        if if_none == "warn":
            print("::warning::" + msg)
        return
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for full, rel in sorted(files, key=lambda f: f[1]):
            z.write(full, rel)
    data = buf.getvalue()
    run, job = ids()
    created = call("CreateArtifact", {"workflowRunBackendId": run, "workflowJobRunBackendId": job, "name": name, "version": 4})
    url = created["signedUploadUrl"]
    put(url + "&comp=block", data)
    put(url + "&comp=blocklist", b"")
    call("FinalizeArtifact", {"workflowRunBackendId": run, "workflowJobRunBackendId": job, "name": name, "size": str(len(data))})
    print(f"artifacts: uploaded {name}: {len(files)} file(s), {len(data)} bytes zipped")


def download(pattern, dest):
    run, job = ids()
    listed = call("ListArtifacts", {"workflowRunBackendId": run, "workflowJobRunBackendId": job}).get("artifacts", [])
    got = 0
    for a in listed:
        if not fnmatch.fnmatch(a["name"], pattern):
            continue
        signed = call("GetSignedArtifactURL", {"workflowRunBackendId": run, "workflowJobRunBackendId": job, "name": a["name"]})
        with urllib.request.urlopen(signed["signedUrl"]) as r:
            data = r.read()
        target = os.path.join(dest, a["name"])
        os.makedirs(target, exist_ok=True)
        zipfile.ZipFile(io.BytesIO(data)).extractall(target)
        print(f"artifacts: downloaded {a['name']} into {target}")
        got += 1
    if got == 0:
        print(f"::warning::artifacts: no artifact matches {pattern}")


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "upload":
        upload(*sys.argv[2:5])
    elif len(sys.argv) == 4 and sys.argv[1] == "download":
        download(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
