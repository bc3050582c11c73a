import Foundation
import Testing

/// Runs the command blocks of README.md and every page of docs/, so the manual never rots.
///
/// A fenced block's info string says what it is:
/// - `sh`: commands, run in order with the other blocks of the same page (one scratch directory per
///   page, `examples/` linked in, the built `lossc` first on PATH); each must exit 0.
/// - `sh bench`: a benchmark's command line, run with `LOSSC_ARGS_ONLY=1`: lossc (and lossc-train)
///   parse and validate the arguments, then exit 0 without the minutes-long run whose numbers the
///   page quotes.
/// - `text`: a transcript or a picture; its lines starting with `$ ` are commands, run like `sh`
///   (`text bench`: like `sh bench`). `text exact`: one `$ ` line whose standard output must be
///   exactly the rest of the block (tables the manual copies from lossc itself).
/// - `sh python` (`sh python bench`): needs the Python environment; run by `python/tests/test_docs.py`.
/// - `output`, `loss`, `swift`, `c`, `python`, `json`, `toml`: not commands.
///
/// In these runs `swift build` and `swift test` do nothing (the test suite is what runs them) and
/// `swift run [-c release] PROGRAM ARGS` runs the already-built PROGRAM.
struct DocsTests {
    struct Block { let page: String; let line: Int; let info: String; let text: String }

    static let runnable: Set<String> = ["sh", "sh bench", "text", "text bench", "text exact"]
    static let inert: Set<String> = ["sh python", "sh python bench", "output", "loss", "swift", "c", "python", "json", "toml"]

    static func pages() throws -> [URL] {
        let docs = CLI.root.appendingPathComponent("docs")
        let names = try FileManager.default.contentsOfDirectory(atPath: docs.path).filter { $0.hasSuffix(".md") }.sorted()
        return [CLI.root.appendingPathComponent("README.md")] + names.map { docs.appendingPathComponent($0) }
    }

    static func blocks(of page: URL) throws -> [Block] {
        let text = try String(contentsOf: page, encoding: .utf8)
        // A fence may be indented (a block inside a list item); its lines lose that indentation.
        var out: [Block] = [], current: [String]?, info = "", start = 0, indent = 0
        for (k, line) in text.components(separatedBy: "\n").enumerated() {
            let trimmed = line.drop(while: { $0 == " " })
            if current == nil, trimmed.hasPrefix("```") {
                info = String(trimmed.dropFirst(3)).trimmingCharacters(in: .whitespaces)
                current = []; start = k + 1; indent = line.count - trimmed.count
            } else if current != nil, trimmed == "```" {
                out.append(Block(page: page.lastPathComponent, line: start, info: info, text: current!.joined(separator: "\n")))
                current = nil
            } else { current?.append(String(line.dropFirst(min(indent, line.prefix(while: { $0 == " " }).count)))) }
        }
        return out
    }

    /// The commands a block runs: all of an `sh` block; the `$ ` lines of a `text` block.
    static func script(_ b: Block) -> String {
        guard b.info.hasPrefix("text") else { return b.text }
        return b.text.components(separatedBy: "\n").filter { $0.hasPrefix("$ ") }.map { String($0.dropFirst(2)) }.joined(separator: "\n")
    }

    @Test func everyBlockSaysWhatItIs() throws {
        for page in try Self.pages() {
            for b in try Self.blocks(of: page) {
                #expect(Self.runnable.contains(b.info) || Self.inert.contains(b.info),
                        "\(b.page):\(b.line): a fenced block needs one of \((Self.runnable.union(Self.inert)).sorted()), not '\(b.info)'")
            }
        }
    }

    @Test func tutorialIsLong() throws {
        let blocks = try Self.blocks(of: CLI.root.appendingPathComponent("docs/tutorial.md")).filter { $0.info == "sh" }
        #expect(blocks.count >= 8)
    }

    @Test(arguments: try DocsTests.pages().map(\.lastPathComponent))
    func commandsRun(_ name: String) throws {
        let page = name == "README.md" ? CLI.root.appendingPathComponent(name) : CLI.root.appendingPathComponent("docs/" + name)
        let blocks = try Self.blocks(of: page).filter { Self.runnable.contains($0.info) && !Self.script($0).isEmpty }
        guard !blocks.isEmpty else { return }
        let fm = FileManager.default
        let dir = fm.temporaryDirectory.appendingPathComponent("lossc-docs-\(getpid())-\(name)")
        try? fm.removeItem(at: dir)
        let shim = dir.appendingPathComponent(".shim")
        try fm.createDirectory(at: shim, withIntermediateDirectories: true)
        defer { try? fm.removeItem(at: dir) }
        for folder in ["examples", "bench"] {
            try fm.createSymbolicLink(at: dir.appendingPathComponent(folder), withDestinationURL: CLI.root.appendingPathComponent(folder))
        }
        let bin = URL(fileURLWithPath: CLI.binary).deletingLastPathComponent().path
        for config in ["debug", "release"] {
            let d = dir.appendingPathComponent(".build/" + config)
            try fm.createDirectory(at: d, withIntermediateDirectories: true)
            for program in ["lossc", "lossc-train"] {
                try fm.createSymbolicLink(atPath: d.appendingPathComponent(program).path, withDestinationPath: bin + "/" + program)
            }
        }
        let swift = shim.appendingPathComponent("swift")
        try """
        #!/bin/sh
        # Stand-in for the toolchain in docs blocks: the programs are already built.
        case "$1" in
          build|test) exit 0 ;;
          run) shift
               while [ "$#" -gt 0 ]; do case "$1" in -c) shift 2 ;; -*) shift ;; *) break ;; esac; done
               prog=$1; shift; exec "\(bin)/$prog" "$@" ;;
        esac
        echo "docs test: 'swift $*' is not supported in a docs block" >&2; exit 3

        """.write(to: swift, atomically: true, encoding: .utf8)
        try fm.setAttributes([.posixPermissions: 0o755], ofItemAtPath: swift.path)
        for b in blocks {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
            p.arguments = ["300", "/bin/bash", "-euo", "pipefail", "-c", Self.script(b)]
            p.currentDirectoryURL = dir
            var env = ProcessInfo.processInfo.environment
            env["PATH"] = shim.path + ":" + bin + ":" + (env["PATH"] ?? "/usr/bin:/bin")
            env["NO_COLOR"] = "1"
            if b.info.hasSuffix("bench") { env["LOSSC_ARGS_ONLY"] = "1" }
            p.environment = env
            let out = Pipe(), err = Pipe()
            p.standardOutput = out; p.standardInput = FileHandle.nullDevice
            p.standardError = b.info == "text exact" ? err : out
            try p.run()
            let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            #expect(p.terminationStatus == 0, "\(b.page):\(b.line): block failed (exit \(p.terminationStatus)):\n\(Self.script(b))\n--- output (last 3000 characters):\n\(text.suffix(3000))")
            if b.info == "text exact" {
                let expected = b.text.components(separatedBy: "\n").filter { !$0.hasPrefix("$ ") }.joined(separator: "\n")
                #expect(text == expected + "\n", "\(b.page):\(b.line): the page's copy differs from `\(Self.script(b))`; paste its output:\n\(text)")
            }
        }
    }
}
