"""Token index constants, as in the official VideoLLaMA2 code (placeholders never reach the embedding)."""

IGNORE_INDEX = -100
MODAL_INDEX = {"image": -200, "video": -201, "audio": -202}
MODAL_TOKEN = {"image": "<image>", "video": "<video>", "audio": "<audio>"}
LLAMA2_SYSTEM = (
    "You are a helpful, respectful and honest assistant. Always answer as helpfully as possible, while being safe. "
    "Your answers should not include any harmful, unethical, racist, sexist, toxic, dangerous, or illegal content. "
    "Please ensure that your responses are socially unbiased and positive in nature.\n\n"
    "If a question does not make any sense, or is not factually coherent, explain why instead of answering "
    "something not correct. If you don't know the answer to a question, please don't share false information."
)
