// VipProxy runs on Linux only; the tests use Unix file modes, setpriv and MariaDB.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
