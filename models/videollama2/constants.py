"""Token index constants, as in the official VideoLLaMA2 code (placeholders never reach the embedding)."""

IGNORE_INDEX = -100
MODAL_INDEX = {"image": -200, "video": -201, "audio": -202}
MODAL_TOKEN = {"image": "<image>", "video": "<video>", "audio": "<audio>"}
