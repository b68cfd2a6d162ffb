"""``ppe-tech keys``: The site's signing key and certificate."""

from __future__ import annotations

import os

import click

from ppe_tech.cli.common import json_option, pass_app, print_json


@click.group()
def keys() -> None:
    """The site's signing key and certificate.

    The key's passphrase comes from the environment variable named by
    signing.passphrase_env in ppe.yaml (default PPE_KEY_PASSPHRASE).
    """


@keys.command("init")
@click.option("--cn", "common_name", help="Certificate common name (default: the technician).")
@click.option(
    "--days",
    type=click.IntRange(min=1),
    default=730,
    show_default=True,
    help="How long the certificate is valid.",
)
@pass_app
def init(app, common_name: str | None, days: int) -> None:
    """Make the site's key (0600, encrypted) and a self-signed signing certificate."""
    from ppe_tech.keys import describe_certificate, init_keys, site_certificate

    key, cert = init_keys(app.site, None, common_name=common_name, days=days)
    info = describe_certificate(site_certificate(app.site))
    click.echo(f"key: {key}")
    click.echo(f"certificate: {cert}")
    click.echo(f"subject: {info['subject']}; valid until {info['not_after'][:10]}")
    click.echo(f"sha256: {info['sha256']}")


@keys.command("import")
@click.argument("p12", type=click.Path(dir_okay=False))
@click.option(
    "--p12-passphrase-env",
    metavar="VAR",
    help="Environment variable holding the .p12 passphrase (default: the key passphrase variable).",
)
@pass_app
def import_(app, p12: str, p12_passphrase_env: str | None) -> None:
    """Take a key and certificate issued by an organisation's CA from FILE.p12."""
    from ppe_tech.errors import KeysError
    from ppe_tech.keys import describe_certificate, import_p12, site_certificate

    p12_pass = None
    if p12_passphrase_env:
        if p12_passphrase_env not in os.environ:
            raise KeysError(f"environment variable {p12_passphrase_env} is not set")
        p12_pass = os.environ[p12_passphrase_env].encode("utf-8")
    key, cert = import_p12(app.site, p12, p12_pass)
    info = describe_certificate(site_certificate(app.site))
    click.echo(f"key: {key}")
    click.echo(f"certificate: {cert}")
    click.echo(f"subject: {info['subject']}; issuer: {info['issuer']}")
    click.echo(f"valid until {info['not_after'][:10]}; sha256: {info['sha256']}")


@keys.command("show")
@json_option
@pass_app
def show(app, as_json: bool) -> None:
    """Show the site certificate, its chain and the trusted roots."""
    from ppe_tech.keys import (
        cert_path,
        describe_certificate,
        key_path,
        site_certificate,
        site_chain,
        trust_roots,
    )

    site = app.site
    data = {
        "key": str(key_path(site)),
        "key_present": key_path(site).is_file(),
        "certificate_file": str(cert_path(site)),
        "certificate": describe_certificate(site_certificate(site)),
        "chain": [describe_certificate(c) for c in site_chain(site)],
        "trust_roots": [describe_certificate(c) for c in trust_roots(site)],
        "passphrase_env": site.config.signing.passphrase_env,
        "timestamp_url": site.config.signing.timestamp_url,
    }
    if as_json:
        print_json(data)
        return
    cert = data["certificate"]
    click.echo(f"key: {data['key']}{'' if data['key_present'] else ' (missing)'}")
    click.echo(f"certificate: {data['certificate_file']}")
    click.echo(f"  subject: {cert['subject']}")
    click.echo(f"  issuer: {cert['issuer']}{' (self-signed)' if cert['self_signed'] else ''}")
    state = "valid" if cert["valid_now"] else "NOT VALID NOW"
    click.echo(f"  valid: {cert['not_before'][:10]} .. {cert['not_after'][:10]} ({state})")
    click.echo(f"  key usage: {', '.join(cert['key_usage']) or 'unrestricted'}")
    click.echo(f"  sha256: {cert['sha256']}")
    for c in data["chain"]:
        click.echo(f"chain: {c['subject']}")
    click.echo(f"trusted roots: {len(data['trust_roots'])}")
    for c in data["trust_roots"]:
        click.echo(f"  {c['subject']} (sha256 {c['sha256'][:16]}...)")
    click.echo(f"passphrase from: ${data['passphrase_env']}")
    if data["timestamp_url"]:
        click.echo(f"timestamp server: {data['timestamp_url']}")
