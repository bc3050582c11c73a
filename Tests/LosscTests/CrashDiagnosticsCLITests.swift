import Foundation
import Testing

/// Class 2 of the hardening issue: inputs that used to trap now get a diagnostic and exit 2
/// (the search's cases are in SearchHardeningCLITests, the native cache's in NativeLoaderTests).
struct CrashDiagnosticsCLITests {
    /// No stack trace, no "Fatal error", exit 2 with lossc's own message.
    static func diagnosed(_ r: CLI.Result, _ text: String) -> Bool {
        r.status == 2 && r.err.contains(text) && !r.err.contains("Fatal error") && !r.err.contains("Stack dump")
    }

    @Test func closedStandardInput() throws {
        let r = try OutputFileCLITests.shell("exec \"$0\" \"$@\" <&-", ["eval", "examples/focal.loss", "--data", "-"])
        #expect(Self.diagnosed(r, "standard input is closed"), "\(r.err)")
    }

    /// Each edit of a search-params checkpoint is refused with what is wrong in it.
    @Test func editedSearchParamsCheckpointsAreRefused() throws {
        let d = try OutputFileCLITests.dir("params")
        let ckpt = "\(d)/state.json"
        let small = ["--only", "delta", "--rounds", "3", "--samples", "2", "--entries", "300", "--steps", "3", "--seed", "5"]
        let first = try CLI.run(["search-params", "examples/ap_loss.loss", "--checkpoint", ckpt, "--stop-after", "1"] + small)
        #expect(first.status == 0, "\(first.err)")
        let original = try #require(FileManager.default.contents(atPath: ckpt))
        let edits: [(String, (inout [String: Any]) -> Void, String)] = [
            ("samples 0", { $0["samples"] = 0 }, "samples must be positive"),
            ("round -1", { $0["round"] = -1 }, "round -1 outside"),
            ("version 9", { $0["version"] = 9 }, "format version 9"),
            ("round beyond history", { $0["round"] = 2 }, "rounds of history"),
            ("a dimension less", { s in
                var h = s["history"] as! [[[String: Any]]]
                h[0][0]["bits"] = [UInt64]()
                h[0][0]["theta"] = [Double]()
                s["history"] = h
            }, "values for 1 dimensions"),
        ]
        for (name, edit, message) in edits {
            var obj = try #require(try JSONSerialization.jsonObject(with: original) as? [String: Any])
            edit(&obj)
            try JSONSerialization.data(withJSONObject: obj).write(to: URL(fileURLWithPath: ckpt))
            let r = try CLI.run(["search-params", "examples/ap_loss.loss", "--checkpoint", ckpt, "--resume"] + small)
            #expect(Self.diagnosed(r, message), "\(name): \(r.status) \(r.err)")
        }
        let seed = try CLI.run(["search-params", "examples/ap_loss.loss", "--seed", "abc"])
        #expect(Self.diagnosed(seed, "--seed: 'abc' is not a non-negative integer"), "\(seed.err)")
    }
}
