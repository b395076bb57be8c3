{
  "targets": [
    {
      "target_name": "portscout_raw_io",
      "sources": ["raw-io.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "conditions": [["OS!='linux'", {"type": "none"}]]
    }
  ]
}
