"""Alerts without Prometheus: a road down too long, dead letters or quarantine growing, a 01
"received" owed past the end of the next working day — told by e-mail and webhook, once when
each starts, again every `remind_every` while it lasts, and once when it ends.

`rules` turns what the bridge sees into observations, `state` keeps each alert's episode and
what each channel was told (durably, in the store), `messages` words them (Vietnamese first,
English beside), `channels` sends them and `monitor` is the supervised task that runs it all.
Nothing is imported here: `bridge.config` imports `bridge.alerts.settings` alone.
"""
