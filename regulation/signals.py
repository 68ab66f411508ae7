"""What the knowledge base announces about its own changes, for whoever listens (the tracker's
webhooks do). Each is sent inside the transaction of the change, after the change is saved: a
receiver's writes commit or roll back with it.
"""

from django.dispatch import Signal

# Milestone.move_to(): milestone (as moved), change (the DateChange), by.
milestone_moved = Signal()
# Commitment.refresh_delivery_status() changed the status: commitment, old_status, update (the
# CommitmentUpdate that set it), by.
commitment_status_changed = Signal()
# PublicRecord.publish() / unpublish(): record, by. Sender: the record's model.
record_published = Signal()
record_unpublished = Signal()
