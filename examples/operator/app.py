"""An example operator: the endpoints Fast Track's CRM calls (GetUserDetails, GetBlocks, GetConsents,
authenticate, bonus), behind any of the three authentication methods, answering the way FT's docs show.

    python examples/operator/app.py --port 9090 --api-key secret
    python examples/operator/app.py --port 9090 --client-id ftsim --client-secret s3cret --token-ttl 60
    python examples/operator/app.py --port 9090 --fault wrong-type

Its answers are made up from the user id, so any id works: ids starting `blocked-` are blocked, ids
starting `optout-` opted out of everything. A `--fault` makes it answer wrong in one way, for trying
ftsim's judge (and for ftsim's own tests): see FAULTS.
"""
from __future__ import annotations

import argparse
import base64
import secrets
import threading
import time

from flask import Flask, jsonify, request

FAULTS = {
    "wrong-type": "userdetails: is_blocked is the string \"no\", not a boolean",
    "missing-field": "userdetails: no email",
    "500": "every endpoint answers 500",
    "slow": "every answer waits --delay seconds (default 2)",
    "cacheable": "answers carry Cache-Control: public, max-age=300",
    "wrong-user": "userdetails and authenticate answer about another user",
    "expired-token": "every bearer token is refused as expired (401), however fresh",
    "redirect": "every endpoint answers 302 to another path",
    "not-json": "userdetails answers HTML",
    "text-plain": "answers are JSON labelled text/plain",
    "bad-token": "the token endpoint answers token_type mac and no expires_in",
}
BONUSES = [{"text": "10 free spins", "value": "FS10"}, {"text": "Deposit match 100%", "value": "DM100"}]


def create_app(*, api_key=None, basic=None, client_id=None, client_secret=None, token_ttl=3600.0,
               faults=(), delay=2.0, currency="EUR") -> Flask:
    app = Flask(__name__)
    faults = set(faults)
    tokens: dict[str, float] = {}  # token -> monotonic expiry
    consents_of: dict[str, list] = {}
    lock = threading.Lock()
    stats = {"tokens": 0, "calls": 0}

    def authorised() -> bool:
        if not (api_key or basic or client_id):
            return True
        if api_key and request.headers.get("X-Api-Key") == api_key:
            return True
        header = request.headers.get("Authorization", "")
        if basic and header == "Basic " + base64.b64encode(basic.encode()).decode():
            return True
        if client_id and header.startswith("Bearer "):
            with lock:
                expiry = tokens.get(header[7:])
            return expiry is not None and time.monotonic() < expiry and "expired-token" not in faults
        return False

    @app.before_request
    def gate():
        if request.path.startswith("/oauth/") or request.path == "/_stats":
            return None
        stats["calls"] += 1
        if "slow" in faults:
            time.sleep(delay)
        if not authorised():
            return jsonify(error="unauthorized", code=401), 401
        if "500" in faults:
            return jsonify(error="internal error", code=500), 500
        if "redirect" in faults:
            return "", 302, {"Location": "/moved" + request.path}
        return None

    @app.after_request
    def headers(resp):
        if request.path.startswith("/oauth/") or request.path == "/_stats":
            return resp
        resp.headers["Cache-Control"] = "public, max-age=300" if "cacheable" in faults else "no-store"
        if "text-plain" in faults and resp.mimetype == "application/json":
            resp.headers["Content-Type"] = "text/plain; charset=utf-8"
        return resp

    @app.get("/userdetails/<user_id>")
    def userdetails(user_id):
        if "not-json" in faults:
            return "<html><body>Welcome!</body></html>", 200, {"Content-Type": "text/html"}
        doc = {
            "address": "1 Main Street", "affiliate_reference": "", "birth_date": "1990-04-01", "city": "Valletta",
            "country": "MT", "currency": currency, "email": f"{user_id}@example.com", "first_name": "Alex",
            "is_blocked": user_id.startswith("blocked-"), "is_excluded": False, "language": "en",
            "last_name": "Doe", "market": "mt", "mobile": "79000000", "mobile_prefix": "+356",
            "origin": "www.example.com", "postal_code": "VLT 1000", "registration_code": "",
            "registration_date": "2024-01-02T10:00:00Z", "roles": ["player"], "sex": "Other", "title": "",
            "user_id": "someone-else" if "wrong-user" in faults else user_id, "username": f"player_{user_id}",
            "verified_at": "", "segmentation": {"custom_segment": "vip"},
        }
        if "wrong-type" in faults:
            doc["is_blocked"] = "no"
        if "missing-field" in faults:
            del doc["email"]
        return jsonify(doc)

    @app.get("/userblocks/<user_id>")
    def userblocks(user_id):
        blocked = user_id.startswith("blocked-")
        return jsonify(blocks=[{"type": "Excluded", "active": False, "note": ""},
                               {"type": "Blocked", "active": blocked, "note": "by support" if blocked else ""}])

    @app.get("/userconsents/<user_id>")
    def userconsents(user_id):
        with lock:
            stored = consents_of.get(user_id)
        opted = not user_id.startswith("optout-")
        return jsonify(consents=stored or [{"type": t, "opted_in": opted} for t in
                                           ("email", "sms", "telephone", "postMail", "siteNotification",
                                            "pushNotification")])

    @app.post("/userconsents/<user_id>")
    def set_consents(user_id):
        doc = request.get_json(silent=True) or {}
        if not isinstance(doc.get("consents"), list):
            return jsonify(error="expected {consents: [...]}", code=400), 400
        with lock:
            consents_of[user_id] = doc["consents"]
        return jsonify(Success=True, Errors=[])

    @app.post("/authenticate")
    def authenticate():
        sid = (request.get_json(silent=True) or {}).get("sid")
        if not isinstance(sid, str) or not sid.startswith("sid-"):
            return jsonify(error="unknown session", code=404), 404
        return jsonify(user_id="someone-else" if "wrong-user" in faults else sid[4:])

    @app.get("/bonus/list")
    def bonus_list():
        return jsonify(Data=BONUSES, Success=True, Errors=[])

    @app.post("/bonus/credit")
    def bonus_credit():
        doc = request.get_json(silent=True) or {}
        if doc.get("bonus_code") not in {b["value"] for b in BONUSES} or not doc.get("user_id"):
            return jsonify(error="unknown bonus_code or no user_id", code=400), 400
        return jsonify(Success=True, Errors=[])

    @app.post("/bonus/credit/funds")
    def bonus_credit_funds():
        doc = request.get_json(silent=True) or {}
        if not doc.get("user_id") or not isinstance(doc.get("amount"), (int, float)) or not doc.get("currency"):
            return jsonify(error="expected user_id, bonus_code, amount, currency", code=400), 400
        return jsonify(Success=True, Errors=[])

    @app.route("/oauth/token", methods=["GET", "POST"])
    def token():
        given = request.args if request.method == "GET" else (request.get_json(silent=True) or {})
        if not client_id or given.get("client_id") != client_id or given.get("client_secret") != client_secret \
                or given.get("grant_type") != "client_credentials":
            return jsonify(error="invalid_client", code=401), 401
        value = secrets.token_urlsafe(24)
        with lock:
            tokens[value] = time.monotonic() + token_ttl
            stats["tokens"] += 1
        if "bad-token" in faults:
            return jsonify(access_token=value, token_type="mac")
        return jsonify(access_token=value, expires_in=token_ttl, token_type="Bearer")

    @app.get("/_stats")
    def stats_view():
        return jsonify(stats)

    return app


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description="An example operator API for ftsim to call.")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=9090)
    p.add_argument("--api-key")
    p.add_argument("--basic", metavar="USER:PASS")
    p.add_argument("--client-id", help="with --client-secret: OAuth client credentials at /oauth/token")
    p.add_argument("--client-secret")
    p.add_argument("--token-ttl", type=float, default=3600.0, help="expires_in of the tokens it issues (s)")
    p.add_argument("--fault", action="append", default=[], choices=sorted(FAULTS),
                   help="answer wrong in this way (repeatable): " + "; ".join(f"{k}: {v}" for k, v in FAULTS.items()))
    p.add_argument("--delay", type=float, default=2.0, help="seconds the slow fault waits")
    p.add_argument("--currency", default="EUR", help="the currency of every user (default EUR)")
    args = p.parse_args(argv)
    app = create_app(api_key=args.api_key, basic=args.basic, client_id=args.client_id,
                     client_secret=args.client_secret, token_ttl=args.token_ttl, faults=args.fault,
                     delay=args.delay, currency=args.currency)
    print(f"example operator on http://{args.host}:{args.port}  faults: {', '.join(args.fault) or 'none'}",
          flush=True)
    app.run(host=args.host, port=args.port, threaded=True)


if __name__ == "__main__":
    main()
