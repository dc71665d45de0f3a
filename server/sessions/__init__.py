"""Sessions (walks): the pure model, their SQL, and the live hub that runs them.

model.py is one walk's clock and summary as plain data (over server/walkclock.py); store.py
holds every SQL statement on the sessions, their events and their timelines, and rows.py reads
those rows back; offline.py checks a walk played offline and replays it through the model;
messages.py is what the phone is told over the socket; hub.py the live sessions, their sockets
and what a control does; scheduler.py the one thread that sends every cue on time; metrics.py
their counters.
"""
