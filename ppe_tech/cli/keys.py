"""``ppe-tech keys``: the site root and each person's signing key and certificate."""

from __future__ import annotations

import os
import sys

import click

from ppe_tech.cli.common import CommandGroup, json_option, pass_app, print_json
from ppe_tech.i18n import _

PERSON = click.option(
    "--person",
    "role",
    metavar="ROLE",
    help="The staff role whose own key this is (technician, head, commission, "
    "organisation_head, any role in staff).",
)


def terminal_ask(prompt: str) -> str:
    """A hidden prompt when a person sits at a terminal; '' (no answer) otherwise."""
    if not sys.stdin.isatty():
        return ""
    return click.prompt(prompt, hide_input=True, default="", show_default=False, err=True)


@click.group(cls=CommandGroup)
def keys() -> None:
    """The site root and each person's signing key and certificate.

    The site key (keys init) is the site's root and the technician's key; its
    passphrase comes from signing.passphrase_env (default PPE_KEY_PASSPHRASE).
    Each person's own key (keys init --person ROLE) has its own passphrase:
    $PPE_KEY_PASSPHRASE_<ROLE> (or signing.people.ROLE.passphrase_env), else
    asked at the terminal.
    """


def _usage_label(usage: str) -> str:
    """An X.509 key usage as printed: its name in English, in words in Russian."""
    labels = {
        "digitalSignature": _("digitalSignature"),
        "nonRepudiation": _("nonRepudiation"),
        "contentCommitment": _("contentCommitment"),
        "keyEncipherment": _("keyEncipherment"),
        "dataEncipherment": _("dataEncipherment"),
        "keyAgreement": _("keyAgreement"),
        "keyCertSign": _("keyCertSign"),
        "cRLSign": _("cRLSign"),
    }
    return labels.get(usage, usage)


def _echo_cert(info: dict) -> None:
    click.echo(
        _("subject: {subject}; issuer: {issuer}").format(
            subject=info["subject"], issuer=info["issuer"]
        )
    )
    click.echo(
        _("valid until {date}; sha256: {digest}").format(
            date=info["not_after"][:10], digest=info["sha256"]
        )
    )


def _whose(role: str, person: str) -> str:
    """``head: Petrov A.A.`` (``руководитель ППЭ: Петров А.А.``)."""
    from ppe_tech.site import staff_role_label

    return f"{staff_role_label(role)}: {person}"


def _person_passphrase(site, role: str) -> bytes:
    from ppe_tech.keys import secret
    from ppe_tech.signers import passphrase_env, person
    from ppe_tech.site import staff_role_label

    person(site, role)  # an unknown role is a usage error before anyone types a passphrase
    what = _("new passphrase of the key of: {role}").format(role=staff_role_label(role))
    return secret(passphrase_env(site, role), what, terminal_ask)


@keys.command("init")
@PERSON
@click.option("--cn", "common_name", help="Root certificate common name (default: the technician).")
@click.option(
    "--days",
    type=click.IntRange(min=1),
    default=730,
    show_default=True,
    help="How long the certificate is valid.",
)
@pass_app
def init(app, role: str | None, common_name: str | None, days: int) -> None:
    """Make the site root key (0600, encrypted), or with --person a person's key and a
    certificate naming them, issued by the site root."""
    from ppe_tech.keys import (
        describe_certificate,
        init_keys,
        passphrase_from_env,
        secret,
        site_certificate,
    )
    from ppe_tech.signers import init_person

    if role:
        found = init_person(
            app.site,
            role,
            passphrase=_person_passphrase(app.site, role),
            root_passphrase=passphrase_from_env(app.site, terminal_ask),
            days=days,
        )
        click.echo(
            _("{whose}: key {file}").format(whose=_whose(role, found.person), file=found.key_file)
        )
        _echo_cert(describe_certificate(found.cert))
        return
    variable = app.site.config.signing.passphrase_env
    passphrase = secret(variable, _("new passphrase of the site key"), terminal_ask)
    key, cert = init_keys(app.site, passphrase, common_name=common_name, days=days)
    info = describe_certificate(site_certificate(app.site))
    click.echo(_("key: {file}").format(file=key))
    click.echo(_("certificate: {file}").format(file=cert))
    click.echo(
        _("subject: {subject}; valid until {date}").format(
            subject=info["subject"], date=info["not_after"][:10]
        )
    )
    click.echo(_("sha256: {digest}").format(digest=info["sha256"]))


@keys.command("import")
@click.argument("p12", type=click.Path(dir_okay=False), required=False)
@PERSON
@click.option(
    "--p12-passphrase-env",
    metavar="VAR",
    help="Environment variable holding the .p12 passphrase (default: the key passphrase variable).",
)
@click.option("--pkcs11", "module", metavar="MODULE", help="PKCS#11 module (.so/.dll) of a token.")
@click.option("--token", metavar="LABEL", help="Token label (with --pkcs11).")
@click.option("--key", "key_label", metavar="LABEL", help="Key label on the token (with --pkcs11).")
@pass_app
def import_(app, *, p12, role, p12_passphrase_env, module, token, key_label) -> None:
    """Take a key and certificate issued by an organisation's CA from FILE.p12, or (with
    --person and --pkcs11) sign with a key kept on a PKCS#11 token."""
    from ppe_tech.errors import ConfigError, KeysError
    from ppe_tech.keys import describe_certificate, import_p12, secret, site_certificate
    from ppe_tech.signers import TokenRef, import_person_p12, import_person_token, pin_env

    if module:
        if not (role and token and key_label) or p12:
            raise ConfigError(_("--pkcs11 needs --person, --token and --key, and no FILE.p12"))
        from ppe_tech.site import staff_role_label

        what = _("PIN of the token of: {role}").format(role=staff_role_label(role))
        pin = secret(pin_env(app.site, role), what, terminal_ask)
        ref = TokenRef(module=module, token=token, key=key_label)
        found = import_person_token(app.site, role, ref, pin=pin)
        click.echo(
            _("{whose}: key on token {token!r} ({module}), label {label!r}").format(
                whose=_whose(role, found.person), token=token, module=module, label=key_label
            )
        )
        _echo_cert(describe_certificate(found.cert))
        return
    if not p12:
        raise ConfigError(_("give FILE.p12, or --pkcs11 MODULE --token LABEL --key LABEL"))
    p12_pass = None
    if p12_passphrase_env:
        if p12_passphrase_env not in os.environ:
            raise KeysError(
                _("environment variable {name} is not set").format(name=p12_passphrase_env)
            )
        p12_pass = os.environ[p12_passphrase_env].encode("utf-8")
    if role:
        passphrase = _person_passphrase(app.site, role)
        found = import_person_p12(
            app.site, role, p12, p12_passphrase=p12_pass or passphrase, passphrase=passphrase
        )
        click.echo(
            _("{whose}: key {file}").format(whose=_whose(role, found.person), file=found.key_file)
        )
        _echo_cert(describe_certificate(found.cert))
        return
    key, cert = import_p12(app.site, p12, p12_pass)
    click.echo(_("key: {file}").format(file=key))
    click.echo(_("certificate: {file}").format(file=cert))
    _echo_cert(describe_certificate(site_certificate(app.site)))


@keys.command("show")
@json_option
@pass_app
def show(app, as_json: bool) -> None:
    """Show the site certificate, each person's key, the chain and the trusted roots."""
    from ppe_tech.keys import (
        cert_path,
        describe_certificate,
        key_path,
        site_certificate,
        site_chain,
        trust_roots,
    )
    from ppe_tech.signers import list_people

    site = app.site
    people = [p if isinstance(p, dict) else p.to_json() for p in list_people(site)]
    data = {
        "key": str(key_path(site)),
        "key_present": key_path(site).is_file(),
        "certificate_file": str(cert_path(site)),
        "certificate": describe_certificate(site_certificate(site)),
        "chain": [describe_certificate(c) for c in site_chain(site)],
        "people": people,
        "trust_roots": [describe_certificate(c) for c in trust_roots(site)],
        "passphrase_env": site.config.signing.passphrase_env,
        "timestamp_url": site.config.signing.timestamp_url,
    }
    if as_json:
        print_json(data)
        return
    cert = data["certificate"]
    missing = " " + _("(missing)") if not data["key_present"] else ""
    click.echo(_("key: {file}").format(file=data["key"]) + missing)
    click.echo(_("certificate: {file}").format(file=data["certificate_file"]))
    click.echo("  " + _("subject: {subject}").format(subject=cert["subject"]))
    own = " " + _("(self-signed)") if cert["self_signed"] else ""
    click.echo("  " + _("issuer: {issuer}").format(issuer=cert["issuer"]) + own)
    state = _("valid") if cert["valid_now"] else _("NOT VALID NOW")
    click.echo(
        "  "
        + _("valid: {start} .. {end} ({state})").format(
            start=cert["not_before"][:10], end=cert["not_after"][:10], state=state
        )
    )
    usages = ", ".join(_usage_label(u) for u in cert["key_usage"]) or _("unrestricted")
    click.echo("  " + _("key usage: {usages}").format(usages=usages))
    click.echo("  " + _("sha256: {digest}").format(digest=cert["sha256"]))
    for c in data["chain"]:
        click.echo(_("chain: {subject}").format(subject=c["subject"]))
    for p in people:
        whose = _whose(p["role"], p["person"])
        if "error" in p:
            click.echo(_("{whose}: cannot sign: {error}").format(whose=whose, error=p["error"]))
        else:
            where = p["token"]["token"] if p["token"] else p["key_file"]
            sources = {"site": _("site key"), "file": _("file key"), "token": _("token key")}
            source = sources.get(p["source"], p["source"])
            click.echo(f"{whose}: {source} ({where})")
    click.echo(_("trusted roots: {n}").format(n=len(data["trust_roots"])))
    for c in data["trust_roots"]:
        digest = _("sha256 {digest}").format(digest=c["sha256"][:16])
        click.echo(f"  {c['subject']} ({digest}...)")
    click.echo(_("passphrase from: {variable}").format(variable="$" + data["passphrase_env"]))
    if data["timestamp_url"]:
        click.echo(_("timestamp server: {url}").format(url=data["timestamp_url"]))
