"""Staff sign-in: who a person is and how they prove it.

Owns: staff users (`models.User`) and their roles, passwords and password links, the second factor (TOTP and
recovery codes) and passkeys, the municipality's identity providers (`oidc`, `oidc_providers`), sessions and the
gates every request passes (`sessions`: idle and maximum age, the second factor a role must set up, the API's
bearer-token sign-in), API tokens and their scopes (`tokens`, `permissions.scope_required`), their pages
(`views`) and commands (`cli`).
May import: core. Imported by every part above it that needs a staff account.
"""
