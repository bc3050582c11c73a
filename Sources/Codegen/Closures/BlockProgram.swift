import LossDSL

/// A loss graph scheduled into a flat list of instructions over registers: the form the
/// closure backend compiles, one closure per instruction.
///
/// A register holds one block of values: one per sample for a scalar register, one per sample
/// and class for a class-vector register. Registers `0 ..< inputCount` are the kind's inputs
/// (`LossKind.inputs` order); the others are work registers, reused once their value is dead
/// (liveness), so a program needs few registers and a block stays in cache.
///
/// Scheduling also folds what does not depend on the data: params become constants and an
/// elementwise operator on constants is evaluated once, in the element type, with the operator
/// table's own math (so it is bit-identical with the reference evaluator computing it every time).
/// `stop_gradient(a)` is `a` itself.
public struct BlockProgram: Sendable, CustomStringConvertible {
    /// Where an instruction reads an argument or a program its output.
    public enum Operand: Hashable, Sendable {
        /// A register (an input, a work register or a constant register).
        case register(Int)
        /// A value broadcast to every sample (and class), stored as the `Double` that converts
        /// exactly to the element type it was folded in.
        case constant(Double)
    }

    /// `dest = op(args)`, elementwise over a block (or per sample for class-axis operators).
    public struct Instruction: Sendable {
        /// The operator (for a fused pair, the outer one).
        public let op: Op
        /// The arguments, in the operator's order (for a fused pair, see `inner`).
        public let args: [Operand]
        /// The register written.
        public let dest: Int
        /// For `softmax`: also write `log_softmax` of the same argument here (both need the
        /// row maximum and the sum of exps, computed once).
        public var logSoftmaxDest: Int? = nil
        /// A producer fused into this instruction: `inner` applies to the first
        /// `inner.arity` args, and its result is argument `innerPosition` of `op`, whose other
        /// argument (if any) is the last arg. The producer's value is never stored.
        public var inner: Op? = nil
        /// Which argument of `op` the fused producer's result is (0 or 1).
        public var innerPosition = 0
    }

    /// A register that holds one constant everywhere (filled once per call), so fused
    /// instructions read every argument from a register and need one loop shape only.
    public struct ConstantRegister: Sendable {
        /// The register filled.
        public let register: Int
        /// Its value (converts exactly to the element type).
        public let value: Double
    }

    /// The loss kind, which fixes the input registers.
    public let kind: LossKind
    /// The shape of each register; inputs first.
    public let registerShapes: [Shape]
    /// How many registers are the kind's inputs.
    public let inputCount: Int
    /// The instructions, in execution order.
    public let instructions: [Instruction]
    /// The roots, in the order they were asked for (value first, then the gradient).
    public let outputs: [Operand]
    /// Registers to fill with a constant before running.
    public let constantRegisters: [ConstantRegister]

    /// Registers in all: inputs, work registers and constant registers.
    public var registerCount: Int { registerShapes.count }

    /// The shape of an operand (constants are scalars, broadcast where needed).
    public func shape(_ operand: Operand) -> Shape {
        switch operand {
        case .register(let r): return registerShapes[r]
        case .constant: return .scalar
        }
    }

    /// The inputs the program reads.
    public var usedInputs: Set<Int> {
        var used = Set<Int>()
        for ins in instructions { for case .register(let r) in ins.args where r < inputCount { used.insert(r) } }
        for case .register(let r) in outputs where r < inputCount { used.insert(r) }
        return used
    }

    /// Schedules the nodes of `graph` that `roots` need, folding constants in `T`. With
    /// `fuse`, a cheap elementwise node whose only reader is a cheap elementwise node of the
    /// same shape runs inside its reader's loop (`ElementOps.isFusable`).
    public init<T: LossReal>(graph: Graph, roots: [NodeID], params: [Double], kind: LossKind, as _: T.Type, fuse: Bool = true) {
        self.kind = kind
        let inputCount = kind.inputs.count
        self.inputCount = inputCount
        var shapes = kind.inputs.map(\.shape)
        let live = graph.reachable(from: roots)
        let nodes = graph.nodes

        // What each node is once stop_gradient aliases are followed, and how often it is read.
        var alias = [Int](0..<graph.count)
        var uses = [Int](repeating: 0, count: graph.count)
        for i in 0..<graph.count where live[i] {
            if nodes[i].op == .stopGradient { alias[i] = alias[Int(nodes[i].args[0])]; continue }
            for a in nodes[i].args { uses[alias[Int(a)]] += 1 }
        }
        for r in roots { uses[alias[Int(r)]] += 1 }
        func isConstant(_ i: Int) -> Bool { nodes[i].op == .constant || nodes[i].op == .param }

        // Fusion: node i absorbs its argument p when p is cheap, read only by i, not folded
        // away, and everything involved has i's shape (no per-sample broadcast in the loop).
        var inner = [Int?](repeating: nil, count: graph.count)
        var absorbed = [Bool](repeating: false, count: graph.count)
        for i in 0..<graph.count where fuse && live[i] && alias[i] == i {
            let n = nodes[i]
            guard n.op.shapeRule == .elementwise, n.args.count <= 2, ElementOps.isFusable(n.op) else { continue }
            for (pos, a) in n.args.enumerated() {
                let p = alias[Int(a)], pn = nodes[p]
                guard pn.op.shapeRule == .elementwise, ElementOps.isFusable(pn.op), uses[p] == 1, inner[p] == nil,
                      !pn.args.allSatisfy({ isConstant(alias[Int($0)]) }) else { continue }
                let operands = pn.args.map { alias[Int($0)] } + (n.args.count == 2 ? [alias[Int(n.args[1 - pos])]] : [])
                guard operands.allSatisfy({ isConstant($0) || graph.shapes[$0] == graph.shapes[i] }) else { continue }
                inner[i] = p
                absorbed[p] = true
                break
            }
        }
        /// The values instruction i reads (a fused producer's arguments in its place).
        func reads(_ i: Int) -> [Int] {
            nodes[i].args.flatMap { a -> [Int] in
                let p = alias[Int(a)]
                return p == inner[i] ? nodes[p].args.map { alias[Int($0)] } : [p]
            }
        }
        var lastUse = [Int](repeating: -1, count: graph.count)
        for i in 0..<graph.count where live[i] && alias[i] == i && !absorbed[i] {
            for p in reads(i) { lastUse[p] = max(lastUse[p], i) }
        }
        for r in roots { lastUse[alias[Int(r)]] = Int.max }

        // softmax and log_softmax of the same argument run as one instruction.
        var softmaxOf: [NodeID: Int] = [:], logSoftmaxOf: [NodeID: Int] = [:]
        for i in 0..<graph.count where live[i] {
            if nodes[i].op == .softmax { softmaxOf[nodes[i].args[0]] = i }
            if nodes[i].op == .logSoftmax { logSoftmaxOf[nodes[i].args[0]] = i }
        }

        // Emit instructions, folding constants and reusing dead work registers.
        var operand = [Operand?](repeating: nil, count: graph.count)
        var free: [Shape: [Int]] = [:]
        var code: [Instruction] = []
        var constantRegister: [Shape: [UInt64: Int]] = [:]
        var constants: [ConstantRegister] = []
        func allocate(_ shape: Shape) -> Int {
            if let r = free[shape]?.popLast() { return r }
            shapes.append(shape)
            return shapes.count - 1
        }
        func release(readsOf i: Int) {
            var released = Set<Int>()
            for p in reads(i) where lastUse[p] == i {
                if case .register(let r)? = operand[p], r >= inputCount, released.insert(r).inserted {
                    free[shapes[r], default: []].append(r)
                }
            }
        }
        func inRegister(_ o: Operand, _ shape: Shape) -> Operand {
            guard case .constant(let c) = o else { return o }
            if let r = constantRegister[shape]?[c.bitPattern] { return .register(r) }
            shapes.append(shape)
            constantRegister[shape, default: [:]][c.bitPattern] = shapes.count - 1
            constants.append(ConstantRegister(register: shapes.count - 1, value: c))
            return .register(shapes.count - 1)
        }
        for i in 0..<graph.count where live[i] && !absorbed[i] {
            let n = nodes[i]
            if operand[i] != nil {  // the second of a softmax/log_softmax pair: already computed
                release(readsOf: i)
                continue
            }
            switch n.op {
            case .constant: operand[i] = .constant(Double(T(n.constant)))
            case .param: operand[i] = .constant(Double(T(params[Int(n.index)])))
            case .input: operand[i] = .register(Int(n.index))
            case .stopGradient: operand[i] = operand[alias[i]]
            default:
                let args = n.args.map { operand[alias[Int($0)]] ?? .constant(.nan) }
                if inner[i] == nil, n.op.shapeRule == .elementwise, let v = Self.fold(n.op, args, as: T.self) {
                    operand[i] = .constant(v)
                    continue
                }
                // The destination is taken before the arguments' registers are released, so
                // an instruction never writes a register it reads (loops vectorize without
                // an overlap check failing, and the C block functions need distinct buffers).
                if n.op == .softmax || n.op == .logSoftmax,
                   let s = softmaxOf[n.args[0]], let l = logSoftmaxOf[n.args[0]] {
                    let ds = allocate(.classVector), dl = allocate(.classVector)
                    code.append(Instruction(op: .softmax, args: args, dest: ds, logSoftmaxDest: dl))
                    operand[s] = .register(ds)
                    operand[l] = .register(dl)
                } else if let p = inner[i] {
                    let pos = n.args.firstIndex { alias[Int($0)] == p } ?? 0
                    let shape = graph.shapes[i]
                    var fusedArgs = nodes[p].args.map { inRegister(operand[alias[Int($0)]] ?? .constant(.nan), shape) }
                    if n.args.count == 2 { fusedArgs.append(inRegister(args[1 - pos], shape)) }
                    let dest = allocate(shape)
                    code.append(Instruction(op: n.op, args: fusedArgs, dest: dest, inner: nodes[p].op, innerPosition: pos))
                    operand[i] = .register(dest)
                } else {
                    let dest = allocate(graph.shapes[i])
                    code.append(Instruction(op: n.op, args: args, dest: dest))
                    operand[i] = .register(dest)
                }
                release(readsOf: i)
            }
        }
        registerShapes = shapes
        instructions = code
        constantRegisters = constants
        outputs = roots.map { operand[alias[Int($0)]] ?? .constant(.nan) }
    }

    /// The value of an elementwise operator on constants, computed in `T`.
    private static func fold<T: LossReal>(_ op: Op, _ args: [Operand], as _: T.Type) -> Double? {
        var v: [T] = []
        for a in args {
            guard case .constant(let c) = a else { return nil }
            v.append(T(c))
        }
        return Double(op.apply(v[0], v.count > 1 ? v[1] : 0, v.count > 2 ? v[2] : 0))
    }

    /// One line per instruction, for `dump`-style inspection and test failure messages.
    public var description: String {
        func name(_ o: Operand) -> String {
            switch o {
            case .register(let r) where r < inputCount: return kind.inputs[r].name
            case .register(let r): return "r\(r)"
            case .constant(let c): return "\(c)"
            }
        }
        var s = "; \(kind.rawValue) program: \(instructions.count) instructions, \(registerCount - inputCount) work registers\n"
        for c in constantRegisters { s += "r\(c.register) = \(c.value) everywhere\n" }
        for ins in instructions {
            let shape = registerShapes[ins.dest] == .classVector ? " : class" : ""
            let pair = ins.logSoftmaxDest.map { ", r\($0) = log_softmax" } ?? ""
            let args = ins.args.map(name)
            var text = args.joined(separator: ", ")
            if let inner = ins.inner {
                let k = inner.arity, call = "\(inner.name)(" + args.prefix(k).joined(separator: ", ") + ")"
                text = ins.args.count > k ? (ins.innerPosition == 0 ? [call, args[k]] : [args[k], call]).joined(separator: ", ") : call
            }
            s += "r\(ins.dest) = \(ins.op.name) " + text + shape + pair + "\n"
        }
        s += "outputs: " + outputs.map(name).joined(separator: ", ") + "\n"
        return s
    }
}
