import Foundation
import Testing

/// Classes 2 and 4 of the hardening issue, through the built binary: external evaluators
/// (process groups, timeouts, signals, placeholders, private directories, concurrency) and the
/// search's state (lock, checksum, resume options, ask/tell validation).
struct SearchHardeningCLITests {
    /// A small search whose candidates all reach the evaluator (no filters).
    static func small(_ extra: [String], topK: Int = 2, holdout: Int = 0) -> [String] {
        ["search", "--kind", "binary", "--no-filters", "--population", "10", "--generations", "1",
         "--top-k", "\(topK)", "--quiet", "--format", "json", "--holdout", "\(holdout)"] + extra
    }

    static func dir(_ tag: String) throws -> String { try OutputFileCLITests.dir("search-\(tag)") }

    /// The fitness values of the report's best list.
    static func best(_ json: String) -> [Double] {
        guard let o = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
              let b = o["best"] as? [[String: Any]] else { return [] }
        return b.compactMap { $0["fitness"] as? Double }
    }

    static func funnel(_ json: String, _ key: String) -> Int? {
        guard let o = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
              let f = o["funnel"] as? [String: Any] else { return nil }
        return f[key] as? Int
    }

    /// Whether a process is gone (or a zombie about to be reaped by init).
    static func gone(_ pid: Int32) -> Bool {
        guard let stat = FileManager.default.contents(atPath: "/proc/\(pid)/stat") else { return true }
        let s = String(decoding: stat, as: UTF8.self)
        guard let close = s.lastIndex(of: ")") else { return true }
        return s[s.index(close, offsetBy: 2)] == "Z"
    }

    @Test func askAndTellWithoutACheckpointAreUsageErrors() throws {
        let a = try CLI.run(["search", "ask", "--kind", "binary"])
        #expect(a.status == 2 && a.err.contains("needs --checkpoint DIR") && !a.err.contains("Fatal"), "\(a.err)")
        let t = try CLI.run(["search", "tell", "results.jsonl"])
        #expect(t.status == 2 && t.err.contains("needs --checkpoint DIR"), "\(t.err)")
    }

    /// A background child that outlives the shell (in its group or in a new session) neither
    /// delays the result nor turns it into a timeout: the shell's exit status counts.
    @Test func leftoverChildrenDoNotBlockTheResult() throws {
        for cmd in ["sleep 30 >/dev/null 2>&1 & echo 0.625", "setsid sleep 30 & echo 0.625", "sleep 30 & echo 0.625"] {
            let r = try CLI.run(Self.small(["--evaluator", cmd, "--timeout", "20"]))
            #expect(r.status == 0, "\(cmd): \(r.err)")
            #expect(Self.best(r.out) == [0.625, 0.625], "\(cmd): \(r.out)")
        }
    }

    /// At the timeout the whole process group dies, not only the shell.
    @Test func theTimeoutKillsTheProcessGroup() throws {
        let d = try Self.dir("timeout")
        let r = try CLI.run(Self.small(["--evaluator", "sleep 60 & echo $! > \"$LOSSC_DIR/child\"; echo $$ > \"$LOSSC_DIR/shell\"; wait",
                                        "--timeout", "1", "--checkpoint", "\(d)/ck", "--workers", "2"]))
        #expect(r.status == 0 && Self.funnel(r.out, "failed_evaluation") == 2, "\(r.out) \(r.err)")
        for cand in ["cand-0", "cand-1", "cand-2", "cand-3", "cand-4"] {
            for f in ["child", "shell"] {
                guard let t = OutputFileCLITests.contents("\(d)/ck/evaluations/gen-0/\(cand)/\(f)"),
                      let pid = Int32(t.trimmingCharacters(in: .whitespacesAndNewlines)) else { continue }
                #expect(Self.gone(pid), "\(cand)/\(f) pid \(pid) still runs")
            }
        }
    }

    /// `{loss}`/`{c}`/`{dir}` are substituted once: a path that contains `{c};touch X;#` stays a
    /// path. The environment variables carry the same paths.
    @Test func placeholdersAreSubstitutedOnceAndExported() throws {
        let d = try Self.dir("inject")
        let ck = "\(d)/c{c};touch${IFS}PWNED;#"
        let r = try CLI.run(Self.small(["--evaluator", "cat {loss} >/dev/null && echo 0.5 # {dir}", "--checkpoint", ck]))
        #expect(r.status == 0 && Self.best(r.out) == [0.5, 0.5], "\(r.err)")
        let all = FileManager.default.enumerator(atPath: d)?.allObjects as? [String] ?? []
        #expect(!all.contains { $0.hasSuffix("PWNED") }, "a command ran from a path: \(all)")
        let e = try CLI.run(Self.small(["--evaluator", "test -f \"$LOSSC_LOSS\" && test -d \"$LOSSC_DIR\" && test -f \"$LOSSC_C\" && echo 0.75"]))
        #expect(e.status == 0 && Self.best(e.out) == [0.75, 0.75], "\(e.out) \(e.err)")
    }

    /// Two searches at once without --checkpoint: each records only what its own evaluator printed.
    @Test func concurrentSearchesDoNotShareEvaluationFiles() throws {
        func start(_ value: String) throws -> (Process, Pipe) {
            let p = Process(), out = Pipe()
            p.executableURL = URL(fileURLWithPath: CLI.binary)
            p.arguments = Self.small(["--evaluator", "sleep 0.5; echo \(value)", "--workers", "1"], topK: 3)
            p.standardOutput = out
            p.standardError = FileHandle.nullDevice
            try p.run()
            return (p, out)
        }
        let a = try start("0.111"), b = try start("0.999")
        let ao = String(decoding: a.1.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let bo = String(decoding: b.1.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        a.0.waitUntilExit(); b.0.waitUntilExit()
        #expect(Self.best(ao) == [0.111, 0.111, 0.111], "\(ao)")
        #expect(Self.best(bo) == [0.999, 0.999, 0.999], "\(bo)")
    }

    /// --workers 4 runs 4 evaluators at once (each waits until it sees the other three).
    @Test func workersAreConcurrentProcesses() throws {
        let d = try Self.dir("workers")
        let cmd = "touch \(d)/$$; i=0; while [ $i -lt 200 ]; do [ $(ls \(d) | wc -l) -ge 4 ] && { echo 1; exit 0; }; sleep 0.05; i=$((i+1)); done; echo 0"
        let r = try CLI.run(Self.small(["--evaluator", cmd, "--workers", "4"], topK: 4))
        #expect(r.status == 0 && Self.best(r.out) == [1, 1, 1, 1], "\(r.out) \(r.err)")
    }

    /// SIGINT reaches the evaluators' groups; lossc reaps them and exits 130.
    @Test func interruptStopsTheEvaluators() throws {
        let d = try Self.dir("sigint")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CLI.binary)
        p.arguments = Self.small(["--evaluator", "echo $$ > \"$LOSSC_DIR/shell\"; sleep 60; echo 1", "--checkpoint", "\(d)/ck"])
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        let pidFile = "\(d)/ck/evaluations/gen-0/cand-0/shell"
        for _ in 0..<600 where !FileManager.default.fileExists(atPath: pidFile) { usleep(50_000) }
        kill(p.processIdentifier, SIGINT)
        p.waitUntilExit()
        #expect(p.terminationStatus == 130)
        if let t = OutputFileCLITests.contents(pidFile), let pid = Int32(t.trimmingCharacters(in: .whitespacesAndNewlines)) {
            #expect(Self.gone(pid), "the evaluator survived")
        } else { Issue.record("the evaluator never started") }
    }

    /// A second run on a locked checkpoint is refused; --resume refuses contradicting options,
    /// may raise --generations; a damaged checkpoint fails its checksum; stale temporaries go.
    @Test func checkpointLockResumeAndChecksum() throws {
        let d = try Self.dir("lock")
        let ck = "\(d)/ck"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CLI.binary)
        p.arguments = Self.small(["--evaluator", "touch \"$LOSSC_DIR/../../../started\"; sleep 3; echo 0.5", "--checkpoint", ck])
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        for _ in 0..<600 where !FileManager.default.fileExists(atPath: "\(ck)/started") { usleep(50_000) }
        let second = try CLI.run(Self.small(["--checkpoint", ck, "--resume"]))
        #expect(second.status == 2 && second.err.contains("in use by another lossc process"), "\(second.err)")
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)

        let conflict = try CLI.run(["search", "--resume", "--checkpoint", ck, "--population", "7", "--quiet"])
        #expect(conflict.status == 2 && conflict.err.contains("--population 7 conflicts with the checkpoint's 10"), "\(conflict.err)")
        let seed = try CLI.run(["search", "--resume", "--checkpoint", ck, "--seed", "9", "--quiet"])
        #expect(seed.status == 2 && seed.err.contains("--seed"))
        try "x".write(toFile: "\(ck)/.lossc-AbC123.tmp", atomically: false, encoding: .utf8)
        try "x".write(toFile: "\(ck)/.checkpoint.json.nosync1a2b", atomically: false, encoding: .utf8)
        let more = try CLI.run(["search", "--resume", "--checkpoint", ck, "--generations", "2", "--quiet", "--format", "json"])
        #expect(more.status == 0 && more.out.contains("\"generations\": 2"), "\(more.err)")
        #expect(!FileManager.default.fileExists(atPath: "\(ck)/.lossc-AbC123.tmp") && !FileManager.default.fileExists(atPath: "\(ck)/.checkpoint.json.nosync1a2b"))

        // A one-character edit of a value: refused by the checksum.
        let path = "\(ck)/checkpoint.json"
        var text = OutputFileCLITests.contents(path) ?? ""
        guard let r = text.range(of: "\"population\" : 10") else { Issue.record("no population in \(text.prefix(200))"); return }
        text.replaceSubrange(r, with: "\"population\" : 11")
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        let bad = try CLI.run(["search", "--resume", "--checkpoint", ck, "--generations", "3", "--quiet"])
        #expect(bad.status == 2 && bad.err.contains("fails its checksum"), "\(bad.err)")
    }

    /// tell refuses empty, manifest, stale, duplicated and non-numeric results (nothing
    /// recorded), and keeps the candidates a file does not mention pending for another ask.
    @Test func tellValidatesResults() throws {
        let d = try Self.dir("tell")
        let ck = "\(d)/ck"
        let ask = try CLI.run(["search", "ask", "--kind", "binary", "--no-filters", "--population", "10", "--generations", "2", "--top-k", "3", "--checkpoint", ck])
        #expect(ask.status == 0 && ask.out.contains("3 candidates to evaluate"), "\(ask.err)")
        let manifest = "\(ck)/batch-0/manifest.jsonl"
        func tell(_ text: String) throws -> CLI.Result {
            let f = try CLI.temp("tell-\(getpid()).jsonl", text)
            return try CLI.run(["search", "tell", f, "--checkpoint", ck])
        }
        #expect(try tell("").err.contains("no results"))
        let m = try CLI.run(["search", "tell", manifest, "--checkpoint", ck])
        #expect(m.status == 2 && m.err.contains("neither \"fitness\" nor \"error\""), "\(m.err)")
        let t = try tell("{\"id\": \"0-0\", \"fitness\": true}\n")
        #expect(t.status == 2 && t.err.contains("must be a JSON number"), "\(t.err)")
        let dup = try tell("{\"id\": \"0-0\", \"fitness\": 0.1}\n{\"id\": \"0-0\", \"fitness\": 0.2}\n")
        #expect(dup.status == 2 && dup.err.contains("appears twice (first on line 1)"))
        let stale = try tell("{\"id\": \"5-0\", \"fitness\": 0.1}\n")
        #expect(stale.status == 2 && stale.err.contains("a candidate of round 5; the round waiting for results is 0"), "\(stale.err)")
        // Every refusal left the batch as it was: the ids of the manifest are still pending.
        let ids = (OutputFileCLITests.contents(manifest) ?? "").split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["id"] as? String
        }
        #expect(ids.count == 3)
        let part = try tell("{\"id\": \"\(ids[0])\", \"fitness\": 0.25}\n")
        #expect(part.status == 0 && part.out.contains("2 of 3 still waiting"), "\(part.out) \(part.err)")
        let again = try tell("{\"id\": \"\(ids[0])\", \"fitness\": 0.25}\n")
        #expect(again.status == 2 && again.err.contains("already has a result"))
        let reask = try CLI.run(["search", "ask", "--checkpoint", ck])
        #expect(reask.status == 0 && reask.out.contains("2 candidates to evaluate (1 of 3 already told)"), "\(reask.out)")
        let rest = try tell(ids.dropFirst().map { "{\"id\": \"\($0)\", \"error\": \"out of memory\"}\n" }.joined())
        #expect(rest.status == 0, "\(rest.err)")
        let next = try CLI.run(["search", "ask", "--checkpoint", ck])
        #expect(next.status == 0 && next.out.contains("generation 2/2"), "\(next.out)")
        let old = try tell("{\"id\": \"\(ids[1])\", \"fitness\": 0.5}\n")
        #expect(old.status == 2 && old.err.contains("the round waiting for results is 1"), "\(old.err)")
    }

    /// Progress lines to a full or closed stderr never stop a search.
    @Test func aSearchSurvivesAFailingStderr() throws {
        for redirect in ["2>/dev/full", "2>&-"] {
            let r = try OutputFileCLITests.shell("exec \"$0\" \"$@\" \(redirect)",
                                                 ["search", "--kind", "binary", "--no-filters", "--population", "10", "--generations", "2", "--top-k", "2", "--format", "json"])
            let done = (Self.funnel(r.out, "evaluated") ?? 0) + (Self.funnel(r.out, "failed_evaluation") ?? 0)
            #expect(r.status == 0 && done == 4, "\(redirect): \(r.status) \(r.out)")
        }
    }
}
