"""The MCP audit log: append-only events, their hash chain, signed checkpoints.

Decisions:

1. Append-only, three times over. No ACL line grants write or unlink on
   events or checkpoints; ``write`` and ``unlink`` raise for everyone, the
   superuser included; and a PostgreSQL trigger refuses UPDATE, DELETE and
   TRUNCATE. The one exception is the retention job, which deletes inside a
   transaction where it has run ``SET LOCAL mcp.audit_prune = 'on'``.
   Database superusers can drop a trigger: against them the chain and the
   signed checkpoints make a rewrite detectable, not impossible. The guard
   triggers are per statement, so they refuse even a statement that matches
   no row, and cost the retention job one check instead of one per row.
2. The chain. A BEFORE INSERT trigger locks the one row of
   ``mcp_audit_head`` (FOR UPDATE), numbers the event ``head + 1``, stamps
   its UTC time with ``clock_timestamp()``, and sets
   ``hash = sha256(prev_hash || canonical)``, hex, where ``canonical`` is
   ``mcp_audit_canonical(row)``: every column but ``id``, ``prev_hash`` and
   ``hash`` (the time formatted explicitly), in a fixed order, as the line
   that ``COPY ... TO STDOUT`` writes for them. That text is deterministic,
   injective (a tab or a backslash inside a value is escaped, NULL is
   ``\\N``) and independent of session settings, so the writer and the
   verifier derive the same bytes from the stored columns; an edited column
   changes them. The first event links to 64 zeros. Numbering under the lock
   leaves no gaps: a rolled-back append rolls the head back too.
3. Verification (:func:`verify_chain`) streams ``sequence, prev_hash, hash``
   and the canonical columns in sequence order through one ``COPY`` and
   recomputes each hash with hashlib from the line as it arrives: PostgreSQL
   writes lines on one core while Python hashes on the other, and nothing
   of the addon's SQL (which a database superuser could redefine) is
   trusted. It checks the sequence has no gap, each link, the head row, and
   every checkpoint (hash at its sequence, Ed25519 signature, and that it
   was signed by this server's key). It reports the first broken link.
4. Checkpoints. A cron signs ``(database uuid, last sequence, its hash)``
   with an Ed25519 key. The private key is generated on first use and kept
   in ``ir.config_parameter`` only encrypted (Fernet) under a sub-key of the
   server-configuration secret ``mcp_audit_key``; the public key is stored
   on every checkpoint.
5. Retention (``mcp_server_odoo.audit_retention_days``, default 365; 0 keeps
   everything). Pruning deletes only up to the newest checkpoint whose event
   is older than the cut-off, so the first surviving event links to a signed
   hash, and it records an ``audit/prune`` event naming the range (staged in
   its own transaction, chained after the commit like any change). The
   verifier accepts a chain that starts after 1 only with both.
6. Users are kept as id and login (at the time of the call) rather than a
   foreign key, so that an event committed on its own cursor never waits for
   the user's transaction, and a renamed or removed user leaves the event
   as it was.
7. Known limit: a database superuser who deletes the newest events and
   rewinds the head row is detected only for events covered by a checkpoint;
   checkpoint often (the cron runs every 10 minutes).
"""

import base64
import hashlib
import logging
from datetime import timedelta

from cryptography.exceptions import InvalidSignature
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError

from ..chain import audit as audit_step

_logger = logging.getLogger(__name__)

GENESIS = "0" * 64
PRUNE_METHOD = "audit/prune"
KEY_PARAM = "mcp_server_odoo.audit_signing_key"
RETENTION_PARAM = "mcp_server_odoo.audit_retention_days"
DEFAULT_RETENTION_DAYS = 365
READER_GROUP = "mcp_server_odoo.group_mcp_audit_reader"

OUTCOMES = [
    ("success", "Success"),
    ("tool_error", "Tool error"),
    ("invalid_arguments", "Invalid arguments"),
    ("unauthenticated", "Unauthenticated"),
    ("rate_limited", "Rate limited"),
    ("denied_policy", "Denied by policy"),
    ("denied_odoo", "Denied by Odoo"),
    ("protocol_error", "Protocol error"),
    ("internal_error", "Internal error"),
    ("audit", "Audit housekeeping"),
]

# The canonical text of an event is the line PostgreSQL's COPY (text format)
# writes for the columns below: fields joined by tabs, NULL as \N, and in text
# a backslash before each backslash and the letters b f n r t v in place of
# those control characters (copyto.c, CopyAttributeOutText). The trigger builds
# that line with mcp_audit_canonical(); the verifier reads it straight from
# COPY (VERIFY_COPY, same columns in the same order), so it trusts no function
# of this addon and spends no time in SQL functions. The leading 2 is the
# version of this format.
CANONICAL_SQL = r"""
CREATE OR REPLACE FUNCTION mcp_audit_copy_text(v text)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN v IS NULL THEN E'\\N' ELSE
        replace(replace(replace(replace(replace(replace(replace(v,
            E'\\', E'\\\\'), E'\b', E'\\b'), E'\f', E'\\f'), E'\n', E'\\n'),
            E'\r', E'\\r'), E'\t', E'\\t'), E'\x0b', E'\\v')
    END
$$;
CREATE OR REPLACE FUNCTION mcp_audit_canonical(e mcp_audit_event)
RETURNS text LANGUAGE sql STABLE AS $$
    SELECT concat_ws(E'\t', '2',
        mcp_audit_copy_text(e.sequence::text),
        mcp_audit_copy_text(
            to_char(e.event_time, 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')),
        mcp_audit_copy_text(e.user_ref::text),
        mcp_audit_copy_text(e.user_login),
        mcp_audit_copy_text(e.oauth_client),
        mcp_audit_copy_text(e.token_family),
        mcp_audit_copy_text(e.remote_addr),
        mcp_audit_copy_text(e.protocol_version),
        mcp_audit_copy_text(e.method),
        mcp_audit_copy_text(e.request_id),
        mcp_audit_copy_text(e.tool),
        mcp_audit_copy_text(e.target_model),
        mcp_audit_copy_text(e.record_ids),
        mcp_audit_copy_text(e.record_count::text),
        mcp_audit_copy_text(e.field_names),
        mcp_audit_copy_text(e.decision),
        mcp_audit_copy_text(e.rule),
        mcp_audit_copy_text(e.outcome),
        mcp_audit_copy_text(e.error_type),
        -- boolean output is t or f, where a cast to text says true or false
        CASE WHEN e.changed IS NULL THEN E'\\N' WHEN e.changed THEN 't' ELSE 'f' END,
        mcp_audit_copy_text(e.latency_us::text),
        mcp_audit_copy_text(e.trace_id),
        mcp_audit_copy_text(e.arguments),
        mcp_audit_copy_text(e.result),
        mcp_audit_copy_text(e.detail))
$$;
"""

GUARD_SQL = """
CREATE OR REPLACE FUNCTION mcp_audit_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND TG_ARGV[0] = 'prunable'
       AND current_setting('mcp.audit_prune', true) = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'MCP audit records are append-only: % on % refused',
        TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END
$$;

-- Events: deleted only by the retention job, and only where a signed
-- checkpoint covers them, so that no session can drop the newest events.
CREATE OR REPLACE FUNCTION mcp_audit_prune_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('mcp.audit_prune', true) = 'on'
       AND OLD.sequence <= (SELECT max(sequence) FROM mcp_audit_checkpoint) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'MCP audit event % is not covered by a signed checkpoint '
        'and cannot be deleted', OLD.sequence
        USING ERRCODE = 'insufficient_privilege';
END
$$;

-- The head row moves only inside an append (the append trigger's own UPDATE
-- runs one trigger level down); it is never deleted.
CREATE OR REPLACE FUNCTION mcp_audit_head_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND pg_trigger_depth() > 1 THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'the MCP audit chain head moves only with an append: % refused',
        TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;
"""

TRIGGERS_SQL = """
CREATE OR REPLACE FUNCTION mcp_audit_append() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    head record;
BEGIN
    SELECT last_sequence, last_hash INTO head
      FROM mcp_audit_head WHERE id = 1 FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'the MCP audit chain head row is missing';
    END IF;
    NEW.sequence := head.last_sequence + 1;
    NEW.event_time := clock_timestamp() AT TIME ZONE 'UTC';
    NEW.prev_hash := head.last_hash;
    NEW.hash := encode(
        sha256(convert_to(NEW.prev_hash || mcp_audit_canonical(NEW), 'UTF8')), 'hex');
    UPDATE mcp_audit_head
       SET last_sequence = NEW.sequence, last_hash = NEW.hash WHERE id = 1;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER mcp_audit_event_append
    BEFORE INSERT ON mcp_audit_event
    FOR EACH ROW EXECUTE FUNCTION mcp_audit_append();
CREATE OR REPLACE TRIGGER mcp_audit_event_guard
    BEFORE UPDATE ON mcp_audit_event
    FOR EACH STATEMENT EXECUTE FUNCTION mcp_audit_guard('never');
CREATE OR REPLACE TRIGGER mcp_audit_event_prune_guard
    BEFORE DELETE ON mcp_audit_event
    FOR EACH ROW EXECUTE FUNCTION mcp_audit_prune_guard();
CREATE OR REPLACE TRIGGER mcp_audit_event_no_truncate
    BEFORE TRUNCATE ON mcp_audit_event
    FOR EACH STATEMENT EXECUTE FUNCTION mcp_audit_guard('never');
"""

PENDING_TRIGGERS_SQL = """
CREATE OR REPLACE TRIGGER mcp_audit_pending_guard
    BEFORE UPDATE OR DELETE ON mcp_audit_pending
    FOR EACH STATEMENT EXECUTE FUNCTION mcp_audit_guard('prunable');
CREATE OR REPLACE TRIGGER mcp_audit_pending_no_truncate
    BEFORE TRUNCATE ON mcp_audit_pending
    FOR EACH STATEMENT EXECUTE FUNCTION mcp_audit_guard('never');
"""

HEAD_TRIGGERS_SQL = """
CREATE OR REPLACE TRIGGER mcp_audit_head_guard
    BEFORE UPDATE OR DELETE ON mcp_audit_head
    FOR EACH ROW EXECUTE FUNCTION mcp_audit_head_guard();
CREATE OR REPLACE TRIGGER mcp_audit_head_no_truncate
    BEFORE TRUNCATE ON mcp_audit_head
    FOR EACH STATEMENT EXECUTE FUNCTION mcp_audit_guard('never');
"""

CHECKPOINT_TRIGGERS_SQL = """
CREATE OR REPLACE TRIGGER mcp_audit_checkpoint_guard
    BEFORE UPDATE OR DELETE ON mcp_audit_checkpoint
    FOR EACH STATEMENT EXECUTE FUNCTION mcp_audit_guard('never');
CREATE OR REPLACE TRIGGER mcp_audit_checkpoint_no_truncate
    BEFORE TRUNCATE ON mcp_audit_checkpoint
    FOR EACH STATEMENT EXECUTE FUNCTION mcp_audit_guard('never');
"""

# sequence, prev_hash, hash, then what mcp_audit_canonical() joins, as COPY
# writes it; %s is the first sequence to stream.
VERIFY_COPY = """
COPY (
    SELECT e.sequence, e.prev_hash, e.hash,
           2, e.sequence, to_char(e.event_time, 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
           e.user_ref, e.user_login, e.oauth_client, e.token_family, e.remote_addr,
           e.protocol_version, e.method, e.request_id, e.tool, e.target_model,
           e.record_ids, e.record_count, e.field_names, e.decision, e.rule,
           e.outcome, e.error_type, e.changed, e.latency_us, e.trace_id,
           e.arguments, e.result, e.detail
      FROM mcp_audit_event e
     WHERE e.sequence >= %s
     ORDER BY e.sequence
) TO STDOUT
"""


class AppendOnly(models.AbstractModel):
    """Refuses ``create``, ``write`` and ``unlink`` through the ORM, to everyone.

    The server writes these tables in SQL (the audit step, the checkpoint
    cron); nobody adds, changes or removes a row through the ORM, sudo or not.
    """

    _name = "mcp.audit.append_only"
    _description = "MCP audit: append-only records"

    @api.model_create_multi
    def create(self, vals_list):
        raise AccessError(_("MCP audit records are written by the server only."))

    def write(self, vals):
        raise AccessError(_("MCP audit records cannot be changed."))

    def unlink(self):
        raise AccessError(_("MCP audit records cannot be deleted."))


class McpAuditHead(models.Model):
    """The one row that serialises appends and holds the chain's end."""

    _name = "mcp.audit.head"
    _inherit = ["mcp.audit.append_only"]
    _description = "MCP audit chain head"
    _log_access = False
    _allow_sudo_commands = False

    last_sequence = fields.Integer(readonly=True)
    last_hash = fields.Char(readonly=True)

    def init(self):
        self.env.cr.execute(GUARD_SQL)
        self.env.cr.execute(HEAD_TRIGGERS_SQL)
        self.env.cr.execute(
            "INSERT INTO mcp_audit_head (id, last_sequence, last_hash)"
            " VALUES (1, 0, %s) ON CONFLICT (id) DO NOTHING",
            [GENESIS],
        )


class McpAuditPending(models.Model):
    """Events of changes, written in the change's transaction, not chained yet.

    Moved into the chain right after their commit (``chain.audit.stage``);
    rows older than a minute mean that move failed and the cron will retry.
    """

    _name = "mcp.audit.pending"
    _inherit = ["mcp.audit.append_only"]
    _description = "MCP audit event waiting to be chained"
    _order = "id"

    payload = fields.Text(readonly=True)

    def init(self):
        self.env.cr.execute(GUARD_SQL)
        self.env.cr.execute(PENDING_TRIGGERS_SQL)


class McpAuditEvent(models.Model):
    _name = "mcp.audit.event"
    _inherit = ["mcp.audit.append_only"]
    _description = "MCP audit event"
    _order = "sequence desc"
    _rec_name = "sequence"
    _log_access = False
    _allow_sudo_commands = False

    # Indexed by its unique constraint.
    sequence = fields.Integer(readonly=True)
    event_time = fields.Datetime("Time (UTC)", readonly=True, index=True)
    user_ref = fields.Integer("User id", readonly=True)
    user_login = fields.Char("User", readonly=True, index=True)
    oauth_client = fields.Char("OAuth client", readonly=True, index=True)
    token_family = fields.Char(readonly=True)
    remote_addr = fields.Char("Client IP", readonly=True)
    protocol_version = fields.Char(readonly=True)
    method = fields.Char("JSON-RPC method", readonly=True)
    request_id = fields.Char("JSON-RPC id", readonly=True)
    tool = fields.Char(readonly=True, index=True)
    target_model = fields.Char("Model", readonly=True, index=True)
    record_ids = fields.Text(readonly=True)
    record_count = fields.Integer("Records", readonly=True)
    field_names = fields.Char("Fields", readonly=True)
    decision = fields.Char(readonly=True)
    rule = fields.Char(readonly=True)
    outcome = fields.Selection(OUTCOMES, readonly=True, index=True)
    error_type = fields.Char("Error class", readonly=True)
    changed = fields.Boolean("Changed data", readonly=True)
    latency_us = fields.Integer("Latency (µs)", readonly=True, aggregator="avg")
    trace_id = fields.Char(readonly=True, index=True)
    arguments = fields.Text("Arguments (shape)", readonly=True)
    result = fields.Text("Result (shape)", readonly=True)
    detail = fields.Char(readonly=True)
    prev_hash = fields.Char("Previous hash", readonly=True)
    hash = fields.Char(readonly=True)

    _sql_constraints = [
        ("sequence_unique", "UNIQUE(sequence)", "Audit sequence numbers are unique."),
    ]

    def init(self):
        self.env.cr.execute(CANONICAL_SQL)
        self.env.cr.execute(GUARD_SQL)
        self.env.cr.execute(TRIGGERS_SQL)

    # -- actions of the Audit Reader ----------------------------------------------

    def _check_reader(self):
        if not self.env.user.has_group(READER_GROUP):
            raise AccessError(_("Only Audit Readers may do this."))

    @api.model
    def action_verify_chain(self):
        self._check_reader()
        # sudo: the addon's own bookkeeping, read to recompute the chain.
        report = verify_chain(self.sudo().env)
        wizard = self.env["mcp.audit.verify"].create(
            {
                "ok": report["ok"],
                "checked": report["checked"],
                "checkpoints": report["checkpoints"],
                "broken_sequence": report.get("broken_sequence") or 0,
                "message": report["message"],
                "seconds": report["seconds"],
            }
        )
        return {
            "type": "ir.actions.act_window",
            "name": _("Audit chain verification"),
            "res_model": "mcp.audit.verify",
            "res_id": wizard.id,
            "view_mode": "form",
            "target": "new",
        }

    def action_export_jsonl(self):
        self._check_reader()
        sequences = self.mapped("sequence")
        if not sequences:
            raise UserError(_("Select the events to export."))
        return {
            "type": "ir.actions.act_url",
            "url": f"/mcp/audit/export.jsonl?from={min(sequences)}&to={max(sequences)}",
            "target": "self",
        }

    # -- crons ----------------------------------------------------------------------

    @api.model
    def _cron_checkpoint(self):
        # Chain what a failed post-commit hook left, then sign the head, in a
        # transaction begun after that sweep committed: the cron's own snapshot
        # predates it and would sign the head as it was before.
        dbname = self.env.cr.dbname
        audit_step.chain_pending(dbname)
        with audit_step.own_cursor(dbname) as cr:
            # sudo: signing the addon's own bookkeeping.
            checkpoint = self.env(cr=cr)["mcp.audit.checkpoint"].sudo()._sign_head()
            if checkpoint:
                # The hash in the server log is an anchor outside the database.
                _logger.info(
                    "MCP audit checkpoint SIGNED at sequence %s hash %s",
                    checkpoint.sequence,
                    checkpoint.hash,
                )

    @api.model
    def _cron_prune(self):
        # sudo: the addon's own bookkeeping; the retention is an admin setting.
        params = self.env["ir.config_parameter"].sudo()
        try:
            days = int(params.get_param(RETENTION_PARAM, DEFAULT_RETENTION_DAYS))
        except (TypeError, ValueError):
            days = DEFAULT_RETENTION_DAYS
        if days > 0:
            prune(self.env, fields.Datetime.now() - timedelta(days=days))


class McpAuditCheckpoint(models.Model):
    _name = "mcp.audit.checkpoint"
    _inherit = ["mcp.audit.append_only"]
    _description = "MCP audit signed checkpoint"
    _order = "sequence desc"
    _rec_name = "sequence"
    _allow_sudo_commands = False

    sequence = fields.Integer(readonly=True, required=True, index=True)
    hash = fields.Char(readonly=True, required=True)
    signature = fields.Char(readonly=True, required=True, help="Ed25519, base64")
    public_key = fields.Char(readonly=True, required=True, help="Ed25519, base64")
    key_fingerprint = fields.Char(readonly=True)

    def init(self):
        self.env.cr.execute(GUARD_SQL)
        self.env.cr.execute(CHECKPOINT_TRIGGERS_SQL)

    def _message(self, sequence, hash_):
        uuid = self.env["ir.config_parameter"].sudo().get_param("database.uuid")
        return (
            f"mcp_server_odoo audit checkpoint v1\n{uuid}\n{sequence}\n{hash_}".encode()
        )

    def _signing_key(self, *, create=True):
        """This server's Ed25519 key, created on first use; fails closed.

        With ``create=False`` (verification) a missing key is an error, not a
        reason to make a new one.
        """
        try:
            secret = audit_step.audit_key("signing-key")
        except audit_step.AuditKeyMissing as exc:
            raise UserError(str(exc)) from None
        fernet = Fernet(base64.urlsafe_b64encode(secret))
        params = self.env["ir.config_parameter"].sudo()
        stored = params.get_param(KEY_PARAM)
        if not stored and not create:
            raise UserError(
                _(
                    "The audit signing key is missing from the database: the "
                    "signed checkpoints cannot be checked."
                )
            )
        if stored:
            try:
                return Ed25519PrivateKey.from_private_bytes(
                    fernet.decrypt(stored.encode())
                )
            except InvalidToken:
                raise UserError(
                    _(
                        "The audit signing key cannot be decrypted with the "
                        "configured mcp_audit_key."
                    )
                ) from None
        key = Ed25519PrivateKey.generate()
        raw = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        params.set_param(KEY_PARAM, fernet.encrypt(raw).decode())
        return key

    @staticmethod
    def _public_b64(key):
        raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return base64.b64encode(raw).decode()

    def _sign_head(self):
        """A checkpoint over the newest event, unless one covers it already."""
        cr = self.env.cr
        cr.execute(
            "SELECT sequence, hash FROM mcp_audit_event ORDER BY sequence DESC LIMIT 1"
        )
        row = cr.fetchone()
        if not row:
            return self.browse()
        cr.execute("SELECT max(sequence) FROM mcp_audit_checkpoint")
        if (cr.fetchone()[0] or 0) >= row[0]:
            return self.browse()
        key = self._signing_key()
        public = self._public_b64(key)
        signature = key.sign(self._message(*row))
        # In SQL: the ORM refuses to create audit records, for everyone.
        cr.execute(
            """
            INSERT INTO mcp_audit_checkpoint (
                sequence, hash, signature, public_key, key_fingerprint,
                create_uid, create_date, write_uid, write_date
            ) VALUES (%s, %s, %s, %s, %s, %s, now() at time zone 'UTC',
                      %s, now() at time zone 'UTC')
            RETURNING id
            """,
            [
                row[0],
                row[1],
                base64.b64encode(signature).decode(),
                public,
                hashlib.sha256(public.encode()).hexdigest()[:16],
                self.env.uid,
                self.env.uid,
            ],
        )
        return self.browse(cr.fetchone()[0])

    def _check_signatures(self, trusted_public):
        """The first checkpoint whose signature or key is wrong, and why."""
        for checkpoint in self:
            if checkpoint.public_key != trusted_public:
                return checkpoint, "was signed by another key than this server's"
            raw = base64.b64decode(checkpoint.public_key)
            try:
                Ed25519PublicKey.from_public_bytes(raw).verify(
                    base64.b64decode(checkpoint.signature),
                    self._message(checkpoint.sequence, checkpoint.hash),
                )
            except (InvalidSignature, ValueError):
                return checkpoint, "has an invalid signature"
        return None, None


class McpAuditVerify(models.TransientModel):
    _name = "mcp.audit.verify"
    _description = "MCP audit chain verification result"

    ok = fields.Boolean(readonly=True)
    checked = fields.Integer("Events checked", readonly=True)
    checkpoints = fields.Integer("Checkpoints checked", readonly=True)
    broken_sequence = fields.Integer("First broken sequence", readonly=True)
    message = fields.Text(readonly=True)
    seconds = fields.Float(readonly=True, digits=(16, 3))


# -- verification and pruning (plain functions over a cursor) ---------------------


def _fail(report, sequence, message):
    report.update(ok=False, broken_sequence=sequence, message=message)
    return report


def _anchor(env, first):
    """The hash the first surviving event must link to, or an error message."""
    if first == 1:
        return GENESIS, None
    cr = env.cr
    cr.execute(
        "SELECT hash FROM mcp_audit_checkpoint WHERE sequence = %s LIMIT 1", [first - 1]
    )
    row = cr.fetchone()
    # The prune record may still wait in mcp_audit_pending for its commit.
    cr.execute(
        "SELECT 1 FROM mcp_audit_event WHERE method = %s AND detail = %s"
        " UNION ALL SELECT 1 FROM mcp_audit_pending"
        " WHERE payload::jsonb->>'method' = %s AND payload::jsonb->>'detail' = %s",
        [PRUNE_METHOD, f"pruned through {first - 1}"] * 2,
    )
    if not row or not cr.fetchone():
        return None, (
            f"events before sequence {first} are missing and no signed "
            "checkpoint and prune record cover their removal"
        )
    return row[0], None


class _Broken(Exception):
    """Stops the COPY stream at the first broken link."""


class _Walker:
    """Receives the COPY stream line by line and recomputes every hash.

    A line is ``sequence, prev_hash, hash`` and then the canonical text, all
    separated by tabs: the hash input is the line's tail, as it arrives.
    """

    def __init__(self, first, prev, checkpoints, report):
        self.expected = first
        self.prev = prev.encode()
        self.checkpoints = checkpoints
        self.report = report

    def write(self, line):
        sequence, prev_hash, hash_, canonical = line[:-1].split(b"\t", 3)
        expected = self.expected
        if sequence != b"%d" % expected:
            self._fail(expected, f"event {expected} is missing")
        if prev_hash != self.prev:
            self._fail(
                expected,
                f"event {expected} does not link to the hash of the event before it",
            )
        if hashlib.sha256(prev_hash + canonical).hexdigest().encode() != hash_:
            self._fail(
                expected,
                f"event {expected} was altered: its content no longer matches its hash",
            )
        if expected in self.checkpoints and self.checkpoints[expected] != hash_:
            self._fail(expected, f"event {expected} differs from its signed checkpoint")
        self.prev = hash_
        self.expected = expected + 1

    def _fail(self, sequence, message):
        _fail(self.report, sequence, message)
        raise _Broken


def _walk(cr, first, prev, checkpoints, report):
    """Stream the events from ``first`` on through COPY and check each link."""
    walker = _Walker(
        first, prev, {seq: hash_.encode() for seq, hash_ in checkpoints.items()}, report
    )
    raw = cr._cnx.cursor()
    try:
        raw.copy_expert(raw.mogrify(VERIFY_COPY, [first]).decode(), walker, size=65536)
    except _Broken:
        pass
    finally:
        raw.close()
    report["checked"] = walker.expected - first
    report["last"] = (walker.expected - 1, walker.prev.decode())
    return report


def verify_chain(env):
    """Recompute the whole chain; a report naming the first broken link if any.

    Call with a superuser environment: it reads the tables directly.
    """
    import time  # noqa: PLC0415

    started = time.perf_counter()
    cr = env.cr
    report = {"ok": True, "checked": 0, "checkpoints": 0, "message": ""}
    cr.execute("SELECT min(sequence), max(sequence) FROM mcp_audit_event")
    first, last = cr.fetchone()
    cr.execute("SELECT last_sequence, last_hash FROM mcp_audit_head WHERE id = 1")
    head = cr.fetchone() or (None, None)
    checkpoints = env["mcp.audit.checkpoint"].search([], order="sequence")
    report["checkpoints"] = len(checkpoints)
    if first is None:
        # Empty: never used, or everything pruned up to a signed head.
        first = (head[0] or 0) + 1
        last = first - 1
    problem = _check_checkpoints(env, checkpoints, last)
    prev, anchor_problem = _anchor(env, first)
    if anchor_problem:
        return _finish(_fail(report, first, anchor_problem), started)
    known = {c.sequence: c.hash for c in checkpoints if c.sequence >= first}
    _walk(cr, first, prev, known, report)
    if report["ok"] and problem:
        _fail(report, *problem)
    if report["ok"] and head != report["last"]:
        _fail(
            report,
            last,
            "the chain head does not match the newest event; "
            "events after it may have been deleted",
        )
    if report["ok"]:
        report["message"] = (
            f"The chain is intact: {report['checked']} events, "
            f"{len(checkpoints)} signed checkpoints."
        )
    return _finish(report, started)


def _check_checkpoints(env, checkpoints, last):
    if not checkpoints:
        return None
    try:
        key = checkpoints._signing_key(create=False)
    except UserError as exc:
        return min(checkpoints.mapped("sequence")), str(exc.args[0])
    broken, reason = checkpoints._check_signatures(checkpoints._public_b64(key))
    if broken:
        return broken.sequence, f"checkpoint at sequence {broken.sequence} {reason}"
    newest = max(checkpoints.mapped("sequence"))
    if last is None or newest > last:
        return (last or 0) + 1, (
            f"a signed checkpoint covers sequence {newest}, but the log ends at "
            f"{last or 0}: events were deleted"
        )
    return None


def _finish(report, started):
    import time  # noqa: PLC0415

    report["seconds"] = time.perf_counter() - started
    report.pop("last", None)
    if not report["ok"]:
        _logger.warning(
            "MCP audit VERIFY FAIL at sequence %s: %s",
            report.get("broken_sequence"),
            report["message"],
        )
    return report


def prune(env, cutoff):
    """Delete events older than ``cutoff`` up to a signed checkpoint; log it.

    Returns the sequence pruned through, or 0. Runs in ``env``'s transaction.
    """
    cr = env.cr
    cr.execute(
        "SELECT max(c.sequence) FROM mcp_audit_checkpoint c"
        " JOIN mcp_audit_event e ON e.sequence = c.sequence"
        " WHERE e.event_time < %s",
        [cutoff],
    )
    through = cr.fetchone()[0]
    if not through:
        return 0
    cr.execute("SET LOCAL mcp.audit_prune = 'on'")
    cr.execute("DELETE FROM mcp_audit_event WHERE sequence <= %s", [through])
    removed = cr.rowcount
    cr.execute("SET LOCAL mcp.audit_prune = 'off'")
    audit_step.stage(
        cr,
        {
            "method": PRUNE_METHOD,
            "outcome": "audit",
            "target_model": "mcp.audit.event",
            "record_count": removed,
            "changed": True,
            "detail": f"pruned through {through}",
        },
    )
    _logger.info(
        "MCP audit PRUNE %s events through sequence %s (before %s)",
        removed,
        through,
        cutoff,
    )
    return through
