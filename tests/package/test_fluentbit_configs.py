"""Package lane: every shipped Fluent Bit configuration buffers its input on disk.

Fluent Bit's in_forward acks a chunk once it is in its buffer; with the default memory
buffer a SIGKILL loses acked events (5.1.1, measured), so each [INPUT] / pipeline input in
integrations/fluentbit must say `storage.type filesystem`, and the file must set the
service's `storage.path`. Fluentd's configuration must give its output a file buffer.
"""
import glob
import os
import re
import unittest

try:
    import yaml
except ImportError:	# the python3 that runs the tests may lack PyYAML: read the two keys by hand
    yaml = None

SOURCE = os.environ.get("VIGIL_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
DIR = os.path.join(SOURCE, "integrations", "fluentbit")


def classic_sections(path):
    """[(section name, {key lowercased: value})] of a classic-format file."""
    sections = []
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if not line or line.startswith("@"):
                continue
            m = re.match(r"^\[(\w+)\]$", line)
            if m:
                sections.append((m.group(1).upper(), {}))
            else:
                key, _, value = line.partition(" ")
                sections[-1][1][key.lower()] = value.strip()
    return sections


class FluentBitConfigs(unittest.TestCase):
    def test_classic_inputs_buffer_on_disk(self):
        files = glob.glob(os.path.join(DIR, "*.conf"))
        files.remove(os.path.join(DIR, "fluentd.conf"))
        self.assertEqual(len(files), 3)
        for path in files:
            sections = classic_sections(path)
            inputs = [kv for name, kv in sections if name == "INPUT"]
            self.assertTrue(inputs, path)
            for kv in inputs:
                self.assertEqual(kv.get("storage.type"), "filesystem", path)
            self.assertTrue([kv["storage.path"] for name, kv in sections
                             if name == "SERVICE" and "storage.path" in kv], path)

    def test_yaml_inputs_buffer_on_disk(self):
        files = glob.glob(os.path.join(DIR, "*.yaml"))
        self.assertEqual(len(files), 3)
        for path in files:
            with open(path) as f:
                text = f.read()
            if yaml:
                doc = yaml.safe_load(text)
                storage = doc["service"]["storage.path"]
                inputs = doc["pipeline"]["inputs"]
            else:
                storage = re.search(r"^  storage\.path: (\S+)", text, re.M).group(1)
                block = re.search(r"^  inputs:\n(.*?)(?:^  outputs:|\Z)", text, re.M | re.S).group(1)
                inputs = [dict(re.findall(r"^\s+-?\s*([\w.]+): (\S+)", item, re.M))
                          for item in re.split(r"^    - ", block, flags=re.M)[1:]]
            self.assertTrue(storage, path)
            self.assertTrue(inputs, path)
            for inp in inputs:
                self.assertEqual(inp.get("storage.type"), "filesystem", path)

    def test_fluentd_output_has_a_file_buffer(self):
        with open(os.path.join(DIR, "fluentd.conf")) as f:
            text = f.read()
        self.assertRegex(text, r"<buffer>\s*@type file\s+path /")


if __name__ == "__main__":
    unittest.main(verbosity=2)
