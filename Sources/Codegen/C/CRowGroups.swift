import LossDSL

/// Rows of a `multiclass` loss four at a time: one function runs the passes of four rows
/// interleaved, pass by pass, so that the chain inside one row (the max, then the sum of exps
/// and its log, then the gradient pass, each waiting on the previous pass's lane reduction)
/// overlaps with the work of the other three. A row of 81 classes is five vectors of 16 per
/// pass; one row at a time left the core waiting on those chains. Four at a time took the
/// emitted cross-entropy (C = 81, AVX-512 copy, value + gradient, default flags) from 1.26 to
/// 0.92 ns per logit under gcc and from 1.19–1.35 to 0.83 under clang (docs/performance.md);
/// two at a time gave about half of that in a first experiment.
///
/// Each row's statements are the single-row function's (`rowBody`) with its locals renamed
/// per row, so a row gets the same bits in a group as alone (`CMultiversionTests` compares
/// with a build where `LOSSC_NO_ROW_GROUPS` turns groups off). Groups serve rows of at most
/// LOSSC_GROUP_ROW classes (four rows' stack buffers stay small; longer rows spend their time
/// in the passes, not waiting between them) whose labels, if any, are all in range, in the
/// float value + gradient versions of row bodies of at most 120 lines (`hasRowGroups`,
/// `isGrouped`), and on x86 in the AVX2 and AVX-512 copies only (`groupGuard`).
extension CKernelWriter {
    /// Rows per group.
    static let groupRows = 4

    /// Whether a version has a group function: value + gradient on a cached row (training's
    /// call; the value-only versions would cost compile time for evaluation's sake).
    static func isGrouped(_ v: Version) -> Bool { v.cached && v.gradient }

    /// Most lines a row body may have to be grouped: a longer body has more independent work in
    /// each pass to hide the wait between passes, and four copies of it take long to compile.
    /// (The examples' bodies are about 50 lines; random formulas of the tests reach hundreds.)
    static let groupBodyLines = 120

    /// Whether the kernels of precision `p` group rows: multiclass losses in float only, with
    /// short row bodies. Each group function is four row functions' worth of code to compile
    /// (gcc: a cross-entropy library took 3.1 s to build, 8.2 s with groups in both precisions,
    /// 6.4 s in float only); float is what training runs, and double keeps one row at a time
    /// (the same bits either way).
    func hasRowGroups(_ p: CPrecision) -> Bool { groupedPrecisions.contains(p) }

    /// `hasRowGroups`, computed (once, by `init`).
    func decideRowGroups(_ p: CPrecision) -> Bool {
        guard plan.kind == .multiclass, p == .f32 else { return false }
        return versions.filter(Self.isGrouped).allSatisfy { v in
            rowBody(p, v).body.reduce(0) { $1 == "\n" ? $0 + 1 : $0 } <= Self.groupBodyLines
        }
    }

    /// The `#if` around this ISA copy's group code: groups exist unless `LOSSC_NO_ROW_GROUPS`
    /// is defined, and in the baseline copy only where it is the only copy (not on x86 with
    /// the AVX2 and AVX-512 copies beside it, which every CPU with AVX2 runs instead): the
    /// group functions are large, and each copy of them adds to the compile time.
    var groupGuard: String {
        "#if !defined(LOSSC_NO_ROW_GROUPS)" + (isa == .baseline ? " && !defined(LOSSC_X86)" : "") + "\n"
    }

    /// Most classes a grouped row may have (`LOSSC_GROUP_ROW`).
    static let groupRowClasses = 256

    func groupName(_ p: CPrecision, _ v: Version) -> String {
        "lossc_rows\(Self.groupRows)_\(prefix)_\(p.rawValue)_\(v.suffix)\(isa.suffix)"
    }

    /// The group function of a cached version: the row function's parameters once per row
    /// (`x_0`, `g_0`, ...; `C` and `inv` shared) and the four losses out through `v`.
    func groupFunction(_ p: CPrecision, _ v: Version) -> String {
        let row = rowBody(p, v)
        let rows = 0..<Self.groupRows
        let shared = row.parameters.filter { $0 == "size_t C" || $0.hasSuffix(" inv") }
        let own = row.parameters.filter { !shared.contains($0) }
        var params = ["size_t C"] + rows.flatMap { q in own.map { Self.renamingRowLocals($0, row: q) } }
        params += shared.filter { $0 != "size_t C" }
        params.append("\(p.cType) *LOSSC_RESTRICT v")
        var s = "static \(isa.attribute)void \(groupName(p, v))(\(params.joined(separator: ", ")))\n{\n"
        let body = row.body.replacingOccurrences(of: "[LOSSC_ROW]", with: "[LOSSC_GROUP_ROW]")
        for segment in Self.segments(body) {
            for q in rows { s += Self.renamingRowLocals(segment, row: q) }
        }
        for q in rows { s += "    v[\(q)] = \(Self.renamingRowLocals(row.result, row: q));\n" }
        return s + "}\n\n"
    }

    /// The body's top-level pieces, in order: a line at the body's indent, or a `{ ... }`
    /// block (a pass), each with its newlines.
    static func segments(_ body: String) -> [String] {
        var out: [String] = [], block: String? = nil
        for line in body.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
            if var b = block {
                b += line + "\n"
                if line == "    }" { out.append(b); block = nil } else { block = b }
            } else if line == "    {" {
                block = line + "\n"
            } else {
                out.append(line + "\n")
            }
        }
        precondition(block == nil, "a row body's block is not closed")
        return out
    }

    /// `text` with each local of a row body (see `isRowLocal`) suffixed `_<row>`. Identifiers
    /// are maximal runs of letters, digits and `_` that start with a letter or `_`; a run
    /// that starts with a digit, or follows a `.` (a literal's digits), is not one.
    static func renamingRowLocals(_ text: String, row: Int) -> String {
        var out = "", i = text.startIndex
        func isWord(_ c: Character) -> Bool { c.isASCII && (c.isLetter || c.isNumber || c == "_") }
        var previous: Character = " "
        while i < text.endIndex {
            let c = text[i]
            guard isWord(c) else { out.append(c); previous = c; i = text.index(after: i); continue }
            var j = i
            while j < text.endIndex, isWord(text[j]) { j = text.index(after: j) }
            let run = text[i..<j]
            out += run
            if !c.isNumber && previous != "." && isRowLocal(run) { out += "_\(row)" }
            previous = text[text.index(before: j)]
            i = j
        }
        return out
    }

    /// The locals of a row body: node values t<id>, softmax and log-softmax differences d<id>,
    /// exp arguments q<k>, lane accumulators a<k>_<m|s|r><id>, buffers b<k> and e<id>,
    /// statistics m<id>, s<id>, l<id>, the class index k, and the row's pointers and weight
    /// x, y, g, w. Everything else (C, inv, helpers, macros, literals) is shared by the rows.
    static func isRowLocal(_ name: Substring) -> Bool {
        if ["k", "x", "y", "g", "w"].contains(name) { return true }
        func digits(_ s: Substring) -> Bool { !s.isEmpty && s.allSatisfy { $0.isASCII && $0.isNumber } }
        guard let first = name.first else { return false }
        if "tdqbemsl".contains(first) { return digits(name.dropFirst()) }
        if first == "a", let bar = name.firstIndex(of: "_") {
            let after = name[name.index(after: bar)...]
            return digits(name[name.index(after: name.startIndex)..<bar]) && after.first.map { "msr".contains($0) } == true
                && digits(after.dropFirst())
        }
        return false
    }
}
