"""Local simulators of the source APIs, for the demo and the tests (never used in place of a configured source).

The package itself imports nothing: each source's folder names its simulator (`sandbox.web`, `sandbox.onec`), and
every definitions load imports those, not the FTP server and its TLS stack that `sandbox.build` starts."""
