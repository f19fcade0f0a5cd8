"""The operator's endpoints the CRM calls, each with the schema its answer is held to.

FT names the paths (its Operator API pages and validator); `schema` is the stem of our own file in
`schemas/operator/`, None where FT publishes no answer shape (the bonus credits: a 200 is the contract).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    path: str  # with {user_id} where the user is in the path
    schema: str | None
    title: str

    def url_path(self, user_id: str | None) -> str:
        from urllib.parse import quote

        return self.path.replace("{user_id}", quote(user_id or "", safe=""))

    def schema_fields(self) -> frozenset[str]:
        """The answer's top-level fields: user_id among them means the answer names its user."""
        return frozenset({"user_details": {"user_id"}, "authenticate": {"user_id"}}.get(self.schema or "", ()))


ENDPOINTS: dict[str, Endpoint] = {e.name: e for e in [
    Endpoint("userdetails", "GET", "/userdetails/{user_id}", "user_details", "GetUserDetails"),
    Endpoint("userblocks", "GET", "/userblocks/{user_id}", "user_blocks", "GetBlocks"),
    Endpoint("userconsents", "GET", "/userconsents/{user_id}", "user_consents", "GetConsents"),
    Endpoint("userconsents.post", "POST", "/userconsents/{user_id}", None, "SetConsents"),
    Endpoint("authenticate", "POST", "/authenticate", "authenticate", "Authenticate"),
    Endpoint("bonus.list", "GET", "/bonus/list", "bonus_list", "Bonus list"),
    Endpoint("bonus.credit", "POST", "/bonus/credit", None, "Bonus credit"),
    Endpoint("bonus.credit_funds", "POST", "/bonus/credit/funds", None, "Bonus credit funds"),
]}
