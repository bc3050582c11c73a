import Foundation

/// The seed mixed into the backend differential tests' generators: 0 (the fixed corpus CI
/// runs) unless LOSSC_BACKEND_SEED is set, to a number or to `random` (printed), to explore.
enum RunSeed {
    static let value: UInt64 = {
        guard let s = ProcessInfo.processInfo.environment["LOSSC_BACKEND_SEED"] else { return 0 }
        let v = UInt64(s) ?? UInt64.random(in: 1...UInt64(UInt32.max))
        print("backend differential tests: LOSSC_BACKEND_SEED=\(v)")
        return v
    }()
}
