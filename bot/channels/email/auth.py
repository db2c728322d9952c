"""Is a From address vouched for? Reads Authentication-Results (RFC 8601) from one trusted server.

interface.md "Who a sender is": with ``MARAC_TRUSTED_AUTHSERV_ID`` set, a message counts as
coming from its From address only when that server's Authentication-Results says dmarc=pass,
or dkim=pass / spf=pass for a domain aligned with the From domain.

Only the topmost header written under the trusted authserv-id is read: the trusted server
prepends its own, so a copy forged by the sender sits below it. RFC 8601 §5 also obliges that
server to delete forged copies; a listener reached directly, bypassing it, cannot be protected
this way, and the lead should not set the trusted id for such a deployment.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from email.message import EmailMessage

logger = logging.getLogger(__name__)

_COMMENT = re.compile(r"\([^()]*\)")
_PROPERTY = re.compile(r'([\w.-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s;]+)')


@dataclass(frozen=True)
class MethodResult:
    """One "method=result prop=value …" clause, e.g. dkim=pass header.d=example.org."""

    method: str
    result: str
    properties: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class AuthResults:
    authserv_id: str | None  # None when the header starts straight with a result
    results: tuple[MethodResult, ...]


def parse_authentication_results(value: str) -> AuthResults:
    """Parse one Authentication-Results header value; comments are dropped."""
    text = value
    while _COMMENT.search(text):  # nested comments go from the inside out
        text = _COMMENT.sub(" ", text)
    clauses = [c.strip() for c in text.split(";") if c.strip()]
    if not clauses:
        return AuthResults(None, ())
    authserv_id: str | None = None
    if "=" not in clauses[0].split()[0]:
        authserv_id = clauses[0].split()[0].lower()
        clauses = clauses[1:]
    results = tuple(r for r in (_method_result(c) for c in clauses) if r is not None)
    return AuthResults(authserv_id, results)


def _method_result(clause: str) -> MethodResult | None:
    pairs = [(k.lower(), v.strip('"')) for k, v in _PROPERTY.findall(clause)]
    if not pairs or "." in pairs[0][0]:
        return None  # "none", or a stray property without a method
    method, result = pairs[0]
    return MethodResult(method.split("/")[0], result.lower(), dict(pairs[1:]))


def is_sender_verified(
    message: EmailMessage, *, from_address: str, trusted_authserv_id: str | None
) -> bool:
    """True when the trusted server vouches for ``from_address``; always True without one."""
    if trusted_authserv_id is None:
        return True
    from_domain = from_address.rpartition("@")[2].lower()
    if not from_domain:
        return False
    header = _trusted_header(message, trusted_authserv_id.lower())
    if header is None:
        logger.info("no Authentication-Results from %s for %s", trusted_authserv_id, from_address)
        return False
    return any(_vouches(r, from_domain) for r in header.results)


def _trusted_header(message: EmailMessage, authserv_id: str) -> AuthResults | None:
    for value in message.get_all("Authentication-Results") or []:
        parsed = parse_authentication_results(str(value))
        if parsed.authserv_id == authserv_id:
            return parsed
    return None


def _vouches(result: MethodResult, from_domain: str) -> bool:
    if result.result != "pass":
        return False
    props = result.properties
    if result.method == "dmarc":
        # DMARC already checked alignment; make sure it judged the same From domain.
        judged = props.get("header.from")
        return judged is None or judged.lower() == from_domain
    if result.method == "dkim":
        signer = props.get("header.d") or props.get("header.i", "")
        return is_aligned(signer.rpartition("@")[2], from_domain)
    if result.method == "spf":
        return is_aligned(props.get("smtp.mailfrom", "").rpartition("@")[2], from_domain)
    return False


def is_aligned(domain: str, from_domain: str) -> bool:
    """Relaxed alignment, approximated without a public-suffix list: the same domain, or one
    a subdomain of the other (sibling subdomains count as unaligned, which fails safe)."""
    domain = domain.lower().rstrip(".")
    if not domain or "." not in domain:
        return False
    return (
        domain == from_domain
        or from_domain.endswith("." + domain)
        or domain.endswith("." + from_domain)
    )
