"""The platform every part stands on, and no domain of its own.

Owns: municipalities and their settings (`municipalities`, `tenancy`), the role names (`models.Role`) and the role
gate (`permissions.roles_required`), the unit of work (`uow`), errors, the clock, i18n and labels, forms' shared
pieces, files and uploads, the job queue and schedule (`jobs`), the outbox, the audit log, CSV reading
(`csvfile`), opening hours, PDF and QR helpers, metrics and logs (`ops`), the menu (`nav`).
May import: nothing of the package but `extensions` and `config`. Who acts is an `types.Actor` (a staff account
of `accounts`, never imported); core's rows name it by table (`actor_id -> user_account`).
"""
