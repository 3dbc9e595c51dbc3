package dependency

// KillStall lets the tests wait out a stuck Kill call exactly.
const KillStall = killStall
