"""Reports: context builders, HTML -> PDF/A-3b rendering, PAdES signing and verifying."""
