"""A real OpenID provider for the tests: Canaille (through pytest-iam's server), run in this process on a real
socket. Nobody on this project wrote it, so the sign-in is tested against someone else's reading of the standard.

Two hooks stand in for what a person or an attacker does at the provider, never for the provider's own logic:
- `methods`: the factors the person used at the provider (Canaille computes `amr` from them, RFC 8176);
- `rewrite`: an attacker between the provider and the app changes the token endpoint's answer (`alg: none`).
"""

from __future__ import annotations

import json
import threading
import uuid

import portpicker
import pytest
from canaille import create_app as create_canaille
from canaille.backends import Backend
from flask import g
from joserfc.jwk import JWKRegistry
from pytest_iam import Server


class Provider:
    def __init__(self, server: Server):
        self.server = server
        self.key = server.signing_key  # the provider's own signing key (for its back-channel logout tokens)
        self.issuer = f"http://localhost:{server.port}"
        self.methods: list[str] | None = None
        self.rewrite = None  # a function (token answer dict) -> dict, applied once

        @server.app.before_request
        def _factors():
            if self.methods is not None and getattr(g, "session", None) is not None:
                g.session.authentication_methods = list(self.methods)

        @server.app.after_request
        def _tamper(response):
            if self.rewrite is not None and response.mimetype == "application/json" and "access_token" in (
                    response.get_data(as_text=True)):
                rewrite, self.rewrite = self.rewrite, None
                response.set_data(json.dumps(rewrite(response.get_json())))
            return response

    def _save(self, obj):
        with self.server.app.app_context():
            self.server.backend.save(obj)
        return obj

    def client(self, redirect_uris: list[str], *, secret: str = "hemmelig-klient", alg: str = "RS256",
               scope=("openid", "email", "profile", "groups")):
        """A client (our app) registered at the provider, its audience itself (Canaille's `aud` is the audience
        list; empty would be a token for nobody)."""
        models = self.server.models
        with self.server.app.app_context():
            client = models.Client(
                client_id=f"opplevelseskort-{uuid.uuid4().hex[:8]}", client_secret=secret, client_name="Opplevelseskort",
                client_uri="http://localhost", redirect_uris=redirect_uris, grant_types=["authorization_code"],
                response_types=["code"], token_endpoint_auth_method="client_secret_basic", scope=list(scope),
                id_token_signed_response_alg=alg)
            self.server.backend.save(client)
            client.audience = [client]
            self.server.backend.save(client)
        return client

    def person(self, user_name: str, email: str, *, groups: list[str] = ()):
        """A person with an account at the provider (and the groups it releases for the `groups` scope)."""
        found = []
        for name in groups:
            found.append(self.server.random_group(display_name=name))
        user = self.server.random_user(user_name=user_name, emails=[email], groups=found)
        return user

    def set_email(self, user, email: str):
        """What the person may do on the provider's own profile page: put any address on their account."""
        with self.server.app.app_context():
            self.server.backend.update(user, emails=[email])
            self.server.backend.save(user)

    def sign_in_as(self, user, methods: list[str] | None = ("password",)):
        """The person has signed in at the provider (with these factors) and consented to every client."""
        self.server.login(user)
        self.server.consent(user)
        self.methods = list(methods) if methods is not None else None

    def reset(self):
        self.server.logout()
        self.methods, self.rewrite = None, None


@pytest.fixture(scope="session")
def canaille_server(tmp_path_factory):
    port = portpicker.pick_unused_port()
    key = JWKRegistry.generate_key("RSA", 2048)
    key.ensure_kid()
    config = {
        "TESTING": True, "ENV_FILE": None, "SECRET_KEY": uuid.uuid4().hex, "WTF_CSRF_ENABLED": False,
        "PREFERRED_URL_SCHEME": "http", "SERVER_NAME": f"localhost:{port}",
        "CANAILLE": {"DATABASE": "memory", "JAVASCRIPT": False,
                     # the default rights of a user at many providers: use OIDC, edit their own profile and e-mail
                     "ACL": {"DEFAULT": {"PERMISSIONS": ["use_oidc", "edit_self"]}},
                     "LOGGING": {"version": 1, "disable_existing_loggers": False,
                                 "handlers": {"null": {"class": "logging.NullHandler"}},
                                 "loggers": {"canaille": {"level": "WARNING", "handlers": ["null"]}}}},
        "CANAILLE_OIDC": {"ACTIVE_JWKS": [key.as_dict(private=True)]},
    }
    import os

    os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")  # the provider itself serves plain http on loopback
    app = create_canaille(config=config, env_file=None, env_prefix="OPPLEVELSESKORT_TEST_IAM_")
    server = Server(app, port, Backend.instance)
    server.signing_key = key
    provider = Provider(server)  # its hooks are set before the provider answers anything
    thread = threading.Thread(target=server.httpd.serve_forever, daemon=True)
    thread.start()
    yield provider
    server.httpd.shutdown()


@pytest.fixture
def canaille(canaille_server):
    yield canaille_server
    canaille_server.reset()
