-- The Inbox's email channel (issue 12): a conversation's subject (set by
-- the first email of the thread, inbound or outbound; replies go out as
-- `Re: <subject>`), and the people of inbound mail found by address.
ALTER TABLE conversations ADD COLUMN subject TEXT;
CREATE INDEX site_users_email ON site_users(project_id, email);
