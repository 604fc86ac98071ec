-- The publisher learns of new journal rows as they commit instead of polling for them: a NOTIFY is
-- delivered to listeners only when its transaction commits, and identical notifications of one
-- transaction collapse into one. A statement-level trigger costs one notification per insert
-- statement (akka-persistence-jdbc writes a batch of events in one statement).
CREATE OR REPLACE FUNCTION replication_journal_committed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('sq_journal_committed', '');
  RETURN NULL;
END
$$;

CREATE TRIGGER replication_journal_committed
  AFTER INSERT ON event_journal
  FOR EACH STATEMENT EXECUTE FUNCTION replication_journal_committed();
