-- The WhatsApp section's session status asks for the newest provider
-- fact (an inbound message or a delivery status) on a channel in the last
-- day. On support_events_at it walked back through every other channel's
-- facts of the day when the channel had none (tens of thousands at peak);
-- per channel it stops at the first match or finds the range empty.
CREATE INDEX support_events_channel_at ON support_events(project_id, channel, at);
