"""Audit the locked dependencies with pip-audit: fail on any known vulnerability, and say
plainly how many dependencies could not be checked (the vulnerability service may be out
of reach from a sandboxed machine)."""

from __future__ import annotations

import json
import subprocess
import sys


def main() -> int:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip_audit",
            "-r",
            "requirements.lock",
            "--no-deps",
            "--disable-pip",
            "--progress-spinner",
            "off",
            "-f",
            "json",
        ],
        capture_output=True,
        text=True,
    )
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        print(f"pip-audit did not run: {result.stderr.strip()[-500:]}", file=sys.stderr)
        return 1
    dependencies = report.get("dependencies", [])
    vulnerable = [d for d in dependencies if d.get("vulns")]
    skipped = [d for d in dependencies if d.get("skip_reason")]
    for dependency in vulnerable:
        for vuln in dependency["vulns"]:
            fixes = ", ".join(vuln.get("fix_versions", [])) or "none yet"
            print(f"VULNERABLE {dependency['name']} {dependency['version']}: {vuln['id']} (fixed in {fixes})")
    audited = len(dependencies) - len(skipped)
    total = len(dependencies)
    print(f"pip-audit: {audited} of {total} locked dependencies audited, {len(vulnerable)} vulnerable")
    if skipped:
        print(f"pip-audit: WARNING: {len(skipped)} could not be audited, e.g. {skipped[0]['skip_reason']}")
    return 1 if vulnerable else 0


if __name__ == "__main__":
    sys.exit(main())
