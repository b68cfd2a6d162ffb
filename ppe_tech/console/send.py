"""``station run --send``: post a signed result file to the console, trusting one certificate.

Standard library only (it runs on the stations, Windows included). The console's certificate
is the one ``station enroll`` copied onto the stick; it is the only trust anchor, so a
console with any other certificate (even one a public CA issued) is refused.
"""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from ppe_tech.errors import ConfigError, KeysError, StorageError
from ppe_tech.i18n import _

CONSOLE_CERT = "console.cert.pem"  # in the site's keys/ folder, and on the stick's
PATH = "/stations/result"
TIMEOUT_S = 20.0


def pinned_context(cert_file: Path) -> ssl.SSLContext:
    """TLS that trusts exactly ``cert_file`` (a leaf: partial chains allowed) and checks the host."""
    if not cert_file.is_file():
        raise KeysError(
            _(
                "{file}: no console certificate on the stick (start `ppe-tech serve --lan` on "
                "the technician's machine once, then run `ppe-tech station enroll` again)"
            ).format(file=cert_file)
        )
    context = ssl.create_default_context(cafile=str(cert_file))
    context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    return context


def send_result(url: str, data: bytes, cert_file: Path) -> dict[str, Any]:
    """POST ``data`` to the console at ``url`` (https://HOST:PORT); its JSON answer."""
    if not url.startswith("https://"):
        raise ConfigError(
            _("--send {url}: the console takes results over https:// only").format(url=url)
        )
    request = urllib.request.Request(
        url.rstrip("/") + PATH,
        data=data,
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(
            request, timeout=TIMEOUT_S, context=pinned_context(cert_file)
        ) as answer:
            return json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        try:
            reason = json.loads(exc.read()).get("error", exc.reason)
        except ValueError:
            reason = exc.reason
        raise ConfigError(
            _("the console refused the result: {reason}").format(reason=reason)
        ) from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, ssl.SSLCertVerificationError):
            raise KeysError(
                _("{url}: not the console enrolled on this stick ({reason})").format(
                    url=url, reason=reason.verify_message
                )
            ) from None
        raise StorageError(
            _("{url}: cannot reach the console: {reason}").format(url=url, reason=reason)
        ) from None
