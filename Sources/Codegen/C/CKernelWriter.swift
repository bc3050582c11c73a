import LossDSL

/// Writes the C functions of one loss: per precision, the kernel (params, loop-invariant
/// nodes, the loop over blocks or rows, the lane-explicit sum) and the static functions it
/// calls: one per version (value only or value + gradient; general or default-exponent).
///
/// - `binary` / `box`: a block function runs one straight-line statement per node over up to
///   `LOSSC_BLOCK` elements. Inputs and outputs are `restrict` pointers and every operator
///   is branch-free, so the loop vectorizes; the per-element loss always goes to a buffer (the
///   caller's or a stack block), so the loop has no conditional stores.
/// - `multiclass`: a row function follows the `RowProgram` (passes over the class axis).
struct CKernelWriter {
    let interface: CInterface
    /// The ISA path whose copy is being written (the function names carry its suffix).
    var isa: CISA = .baseline
    /// The precisions whose kernels group rows (`hasRowGroups`), decided once: the answer
    /// writes the row bodies to count their lines, and every ISA copy asks.
    private(set) var groupedPrecisions: Set<CPrecision> = []

    init(interface: CInterface) {
        self.interface = interface
        groupedPrecisions = Set(CPrecision.allCases.filter(decideRowGroups))
    }
    var plan: KernelPlan { interface.plan }
    var graph: Graph { plan.graph }
    var prefix: String { interface.prefix }

    /// One version of the per-element (or per-row) code.
    struct Version {
        /// Computes the gradient too (else the value only).
        var gradient: Bool
        /// Assumes the default integer exponents of `pow` (see `KernelPlan.powGuards`).
        var fast: Bool
        /// multiclass: a row of at most LOSSC_ROW classes, kept in stack buffers so that
        /// `exp(a_k - max)` is computed once per class (else streamed in chunks, recomputed).
        var cached: Bool = false
        var suffix: String { (gradient ? "vg" : "v") + (fast ? "f" : "") + (cached ? "c" : "") }
    }

    var versions: [Version] {
        var all: [Version] = []
        for g in [false, true] {
            for f in plan.hasFastPath ? [false, true] : [false] {
                for c in plan.kind == .multiclass ? [false, true] : [false] {
                    all.append(Version(gradient: g, fast: f, cached: c))
                }
            }
        }
        return all
    }

    func roots(_ v: Version) -> [NodeID] { v.gradient ? plan.allRoots : plan.valueRoots }

    /// All functions of one precision: the per-sample functions and the chunk loop of each
    /// ISA path (the extra paths only where `LOSSC_X86` is defined), then the kernel.
    func functions(_ p: CPrecision) -> String {
        var s = jobStruct(p) + pathFunctions(p)
        s += "#if defined(LOSSC_X86)\n"
        for isa in CISA.extra {
            var copy = self
            copy.isa = isa
            s += copy.pathFunctions(p)
        }
        s += "#endif\n\n"
        s += kernel(p)
        return s
    }

    /// The functions of one ISA path: per-sample versions and the chunk loop.
    func pathFunctions(_ p: CPrecision) -> String {
        var s = ""
        for v in versions {
            s += plan.kind == .multiclass ? rowFunction(p, v) : blockFunction(p, v)
        }
        if hasRowGroups(p) {
            s += groupGuard
            for v in versions where Self.isGrouped(v) { s += groupFunction(p, v) }
            s += "#endif\n\n"
        }
        return s + chunkFunction(p)
    }

    func helperName(_ p: CPrecision, _ v: Version) -> String {
        "lossc_\(plan.kind == .multiclass ? "row" : "blk")_\(prefix)_\(p.rawValue)_\(v.suffix)\(isa.suffix)"
    }

    // MARK: shared pieces

    /// The nodes a version evaluates per element (or per row, in any pass).
    func nodesUsed(_ v: Version) -> [NodeID] {
        let roots = roots(v)
        guard plan.kind == .multiclass else { return plan.elementNodes(roots) }
        let program = RowProgram(plan: plan, roots: roots)
        var used = program.scalarsBefore + program.outputNodes
        for pass in program.passes {
            used += pass.vectorNodes + pass.scalarsAfter
            for stat in pass.stats {
                switch stat { case .max(let a), .sumExp(let a): used.append(a); case .reduce(let r): used.append(r) }
            }
        }
        return used
    }

    /// The invariants a version reads from `inv` (its nodes' arguments and invariant roots).
    func invariantsRead(_ v: Version) -> [NodeID] {
        var read = Set(plan.invariantsRead(by: nodesUsed(v), fast: v.fast))
        for r in roots(v) where plan.isInvariant[Int(r)] && graph[r].op != .constant { read.insert(r) }
        return plan.invariants.filter { read.contains($0) }
    }

    /// `const T t<id> = inv[k];` for the invariants the version reads.
    func loadInvariants(_ p: CPrecision, _ v: Version) -> String {
        let read = Set(invariantsRead(v))
        var s = ""
        for (k, id) in plan.invariants.enumerated() where read.contains(id) {
            s += "    const \(p.cType) t\(id) = inv[\(k)];\n"
        }
        return s
    }

    /// The statement for an elementwise node (inputs are loaded by the caller).
    func statement(_ p: CPrecision, _ id: NodeID, fast: Bool, indent: String) -> String {
        let e = CExpression(plan: plan, precision: p, fast: fast)
        return "\(indent)const \(p.cType) t\(id) = \(e.rhs(id));\n"
    }

    /// Where input `index` of the kind is read for element `j`.
    func inputRead(_ index: Int, element j: String) -> String {
        return plan.kind.kernelPointer(carrying: index)?.element(index, sample: j) ?? "0"
    }

    /// The data pointers a set of roots reads.
    func pointersRead(_ roots: [NodeID]) -> [String] {
        let inputs = Set(plan.inputsRead(roots))
        return interface.dataPointers.filter { !inputs.isDisjoint(with: $0.inputs) }.map(\.name)
    }

    // MARK: binary and box

    func blockFunction(_ p: CPrecision, _ v: Version) -> String {
        let T = p.cType, R = "LOSSC_RESTRICT"
        let roots = roots(v)
        let nodes = plan.elementNodes(roots)
        let load = loadInvariants(p, v)
        var params = ["size_t m"] + pointersRead(roots).map { "const \(T) *\(R) \($0)" }
        if !invariantsRead(v).isEmpty { params.append("const \(T) *\(R) inv") }
        params.append("\(T) *\(R) lo")
        if v.gradient { params.append("\(T) *\(R) g") }
        let grads = v.gradient ? plan.loss.gradient : []
        // Box gradients go to one stack row per coordinate, then a second loop interleaves them
        // into g's [n][4]: gcc (12) stores an interleaved group of four from the main loop as 64
        // scalar stores per 16 boxes, the bound of its GIoU loop (1.76 ns/box; 1.29 this way,
        // clang's speed). Both loops vectorize under gcc and clang; the values are the same.
        let byCoordinate = grads.count > 1
        var s = "static \(isa.attribute)void \(helperName(p, v))(\(params.joined(separator: ", ")))\n{\n"
        s += load + "    size_t j;\n"
        if byCoordinate { s += "    \(T) gc[\(grads.count)][LOSSC_BLOCK];\n" }
        s += "    for (j = 0; j < m; j++) {\n"
        let e = CExpression(plan: plan, precision: p, fast: v.fast)
        for id in nodes {
            let n = graph[id]
            if n.op == .input {
                s += "        const \(T) t\(id) = \(inputRead(Int(n.index), element: "j"));\n"
            } else {
                s += statement(p, id, fast: v.fast, indent: "        ")
            }
        }
        s += "        lo[j] = \(e.name(plan.loss.value));\n"
        for (c, r) in grads.enumerated() {
            s += byCoordinate ? "        gc[\(c)][j] = \(e.name(r));\n" : "        g[j] = \(e.name(r));\n"
        }
        s += "    }\n"
        if byCoordinate {
            s += "    for (j = 0; j < m; j++) {\n"
            for c in grads.indices { s += "        g[\(grads.count) * j + \(c)] = gc[\(c)][j];\n" }
            s += "    }\n"
        }
        return s + "}\n\n"
    }
}
