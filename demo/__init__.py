"""The end-to-end demo (演示), beside `bench/`: a client of the public APIs, never shipped in the image."""
