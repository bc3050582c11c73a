import Foundation
import Testing

/// Runs every ```sh tutorial block of README.md, in order, in a scratch directory with the built
/// `lossc` first on PATH, so the tutorial never rots.
struct TutorialTests {
    @Test func readmeTutorialRuns() throws {
        let readme = try String(contentsOf: CLI.root.appendingPathComponent("README.md"), encoding: .utf8)
        var blocks: [String] = []
        var current: [String]?
        for line in readme.components(separatedBy: "\n") {
            if current == nil, line == "```sh tutorial" { current = []; continue }
            if current != nil, line == "```" { blocks.append(current!.joined(separator: "\n")); current = nil; continue }
            current?.append(line)
        }
        #expect(blocks.count >= 6)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lossc-tutorial-\(getpid())")
        try? FileManager.default.removeItem(at: dir)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(at: dir.appendingPathComponent("examples"),
                                                   withDestinationURL: CLI.root.appendingPathComponent("examples"))
        defer { try? FileManager.default.removeItem(at: dir) }
        let bin = URL(fileURLWithPath: CLI.binary).deletingLastPathComponent().path
        for (k, block) in blocks.enumerated() {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/bash")
            p.arguments = ["-euo", "pipefail", "-c", block]
            p.currentDirectoryURL = dir
            var env = ProcessInfo.processInfo.environment
            env["PATH"] = bin + ":" + (env["PATH"] ?? "/usr/bin:/bin")
            env["NO_COLOR"] = "1"
            p.environment = env
            let out = Pipe()
            p.standardOutput = out; p.standardError = out
            try p.run()
            let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            #expect(p.terminationStatus == 0, "tutorial block \(k + 1) failed:\n\(block)\n--- output:\n\(text)")
        }
    }
}
