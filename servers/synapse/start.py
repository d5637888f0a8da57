# Starts Synapse inside this Python process (python3 /stickler/start.py), after giving the
# server a signing key of its own if it has none (first start): one interpreter start-up
# instead of two. Most of a start is importing Synapse; two costs of it are cut here.
import gc
import os
import sys

KEY = "/data/signing.key"

if not os.path.exists(KEY):
    from signedjson.key import generate_signing_key, write_signing_keys

    with open(KEY + ".tmp", "w") as f:
        write_signing_keys(f, [generate_signing_key("a_stkl")])
    os.replace(KEY + ".tmp", KEY)

# Importing Synapse creates objects by the hundred thousand; collecting garbage meanwhile only
# costs time (a fifth of the import). Synapse sets its own collector thresholds once it runs.
gc.disable()

# Synapse checks at import that its Python dependencies are installed and of the right versions,
# reading every installed package's metadata. The image's packages cannot change after the build,
# where prepare.sh runs that same check once; here only the general check is skipped (checks
# for optional features a config enables still run).
from synapse.util import check_dependencies  # noqa: E402

_check = check_dependencies.check_requirements


def _check_extras_only(extra=None):
    if extra is not None:
        _check(extra)


check_dependencies.check_requirements = _check_extras_only

from synapse.app.homeserver import main  # noqa: E402

gc.enable()
sys.argv = ["synapse.app.homeserver", "-c", "/data/homeserver.yaml"]
main()
