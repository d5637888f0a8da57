# A spam checker for the suite's SEND-9 test (an event a spam checker flags is never sticky):
# it flags every event whose content carries the marker field set to true, and nothing else.
# Loaded through Synapse's module API (homeserver.yaml.tmpl, `modules:`); the image declares it
# with the label org.stickler.spam-checker (Dockerfile), which names the marker.
from synapse.module_api import NOT_SPAM
from synapse.module_api.errors import Codes


class SticklerSpamChecker:
    def __init__(self, config, api):
        self._marker = (config or {}).get("marker", "org.stickler.spam")
        api.register_spam_checker_callbacks(check_event_for_spam=self.check_event_for_spam)

    @staticmethod
    def parse_config(config):
        return config

    async def check_event_for_spam(self, event):
        # event.content is an immutable mapping, not a dict.
        content = event.content
        if hasattr(content, "get") and content.get(self._marker) is True:
            return Codes.FORBIDDEN, {}
        return NOT_SPAM
