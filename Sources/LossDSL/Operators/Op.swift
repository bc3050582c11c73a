/// Every operation a loss graph can contain.
///
/// This enum and its `info` table are the single source of truth about operators: the
/// parser looks names up here, shape inference reads `shape`, the printers read `name`,
/// the DEAP importer reads `deapName`, the C emitter reads `cSpelling`, the closure backend
/// reads `fusable`, structural hashing reads `id`. The other per-operator facts are each one
/// exhaustive `switch` in a companion file: the value (`OpMath.swift`), the derivative rules
/// (`OpDerivative.swift`), the interval and hazards (`OpInterval.swift`), the grouped class
/// intervals (`OpClassInterval.swift`) and the smoothness (`OpSmoothness.swift`).
/// docs/operators.md lists what adding an operator takes.
public enum Op: UInt8, CaseIterable, Sendable, Hashable {
    // Leaves.
    case constant, input, param
    // The 21 operators of the CSE-Autoloss search space.
    case neg, exp, log, abs, sqrt, softmax, softplus, sigmoid, tanh, sin, cos, relu
    case scaledGD, scaledALF, scaledERF, scaledERFC
    case add, sub, mul, div, dot
    // Extras beyond the search space.
    case pow, log1p, expm1, min, max, select, stopGradient, sum, logSoftmax
    // Internal: produced by derivative rules, also callable.
    case sign, step, cosh
}

/// Which part of the language an operator belongs to.
public enum OpFamily: String, Sendable {
    /// Constants, inputs and params.
    case leaf
    /// One of the 21 operators of CSE-Autoloss's search space.
    case searchSpace = "search space"
    /// Useful beyond the search space (a formula using one is outside the search space).
    case extra
    /// Used by derivative rules; callable, but rarely written by hand.
    case helper
}

/// How an operator treats the class axis of a `multiclass` loss.
public enum ShapeRule: Sendable {
    /// Applies per element; scalars broadcast against class vectors.
    case elementwise
    /// Maps a class vector to a class vector (softmax); needs a class axis.
    case classMap
    /// Reduces over the class axis to a per-sample scalar (dot, sum); needs a class axis.
    case classReduce
}

/// How an operator is written in C (`Codegen` adds the precision suffix).
public enum CSpelling: Sendable {
    case infix(String)
    case prefix(String)
    /// A libm function: `exp` becomes `expf` in float, `exp` in double.
    case libm(String)
    /// A helper the emitter writes itself (`lossc_NAME_f` / `lossc_NAME_d`).
    case helper(String)
    /// Not an elementwise C expression (leaves, class-axis operators).
    case structural
}

/// What the operator table knows about one operator.
public struct OpInfo: Sendable {
    /// The operator's permanent number: structural hashing keys on it (not on the enum's case
    /// order), so it fixes the canonical argument order of commutative operators and with it
    /// the emitted code. A new operator takes the next unused number; numbers are never
    /// reused or changed (`OperatorTableTests` checks they are unique).
    public let id: UInt64
    /// The name used in `.loss` files and printed by `fmt`.
    public let name: String
    public let arity: Int
    public let family: OpFamily
    public let shape: ShapeRule
    /// The name in CSE-Autoloss's DEAP prefix strings, if it has one.
    public let deapName: String?
    public let cSpelling: CSpelling
    /// True when swapping the two arguments gives bit-identical results in IEEE arithmetic.
    public let commutative: Bool
    /// Cheap (a few instructions, no libm call): the closure backend fuses it into the loop
    /// of the operator that reads it, so a fused pair stays one tight loop. Read from
    /// `Op.withFusableElementFunction`, where it is stated.
    public let fusable: Bool
    /// One line for `--help`, README and diagnostics.
    public let summary: String
}

extension Op {
    /// The operator table, built once.
    public var info: OpInfo { Op.infos[Int(rawValue)] }

    static let infos: [OpInfo] = Op.allCases.map(\.tableEntry)
    // Hot facts as plain arrays, so passes do not copy (and retain) an OpInfo per node.
    static let leafFlags: [Bool] = infos.map { $0.family == .leaf }
    static let commutativeFlags: [Bool] = infos.map(\.commutative)
    static let shapeRules: [ShapeRule] = infos.map(\.shape)
    static let stableKeys: [UInt64] = infos.map(\.id)

    /// True for constants, inputs and params.
    @inline(__always) public var isLeaf: Bool { Op.leafFlags[Int(rawValue)] }
    /// True when swapping the arguments gives bit-identical results.
    @inline(__always) public var isCommutative: Bool { Op.commutativeFlags[Int(rawValue)] }
    /// How the operator treats the class axis.
    @inline(__always) public var shapeRule: ShapeRule { Op.shapeRules[Int(rawValue)] }
    /// The operator's permanent number (`OpInfo.id`): what structural hashing keys on, so that
    /// the order of the enum's cases (and adding one) never changes a formula's canonical form.
    @inline(__always) public var stableKey: UInt64 { Op.stableKeys[Int(rawValue)] }

    private var tableEntry: OpInfo {
        func i(id: UInt64, _ name: String, _ arity: Int, _ family: OpFamily, _ shape: ShapeRule = .elementwise,
               deap: String? = nil, c: CSpelling, commutative: Bool = false, _ summary: String) -> OpInfo {
            OpInfo(id: id, name: name, arity: arity, family: family, shape: shape, deapName: deap,
                   cSpelling: c, commutative: commutative,
                   fusable: withFusableElementFunction(FusableProbe()) != nil, summary: summary)
        }
        switch self {
        case .constant: return i(id: 1, "constant", 0, .leaf, c: .structural, "a numeric literal")
        case .input: return i(id: 2, "input", 0, .leaf, c: .structural, "an input of the loss's kind")
        case .param: return i(id: 3, "param", 0, .leaf, c: .structural, "a tunable parameter")
        case .neg: return i(id: 4, "neg", 1, .searchSpace, deap: "Neg", c: .prefix("-"), "-a")
        case .exp: return i(id: 5, "exp", 1, .searchSpace, deap: "Exp", c: .libm("exp"), "e^a")
        case .log: return i(id: 6, "log", 1, .searchSpace, deap: "Log", c: .libm("log"), "natural logarithm (NaN for a < 0)")
        case .abs: return i(id: 7, "abs", 1, .searchSpace, deap: "Abs", c: .libm("fabs"), "|a|")
        case .sqrt: return i(id: 8, "sqrt", 1, .searchSpace, deap: "Sqrt", c: .libm("sqrt"), "square root (NaN for a < 0)")
        case .softmax: return i(id: 9, "softmax", 1, .searchSpace, .classMap, deap: "Softmax", c: .structural, "softmax over the class axis")
        case .softplus: return i(id: 10, "softplus", 1, .searchSpace, deap: "Softplus", c: .helper("softplus"), "log(1 + e^a), computed stably")
        case .sigmoid: return i(id: 11, "sigmoid", 1, .searchSpace, deap: "Sig", c: .helper("sigmoid"), "1 / (1 + e^-a), computed stably")
        case .tanh: return i(id: 12, "tanh", 1, .searchSpace, deap: "Tanh", c: .libm("tanh"), "hyperbolic tangent")
        case .sin: return i(id: 13, "sin", 1, .searchSpace, deap: "Sin", c: .libm("sin"), "sine")
        case .cos: return i(id: 14, "cos", 1, .searchSpace, deap: "Cos", c: .libm("cos"), "cosine")
        case .relu: return i(id: 15, "relu", 1, .searchSpace, deap: "Relu", c: .helper("relu"), "max(a, 0)")
        case .scaledGD: return i(id: 16, "scaled_gd", 1, .searchSpace, deap: "Sgdf", c: .helper("scaled_gd"),
                                 "scaled Gudermannian S-curve (gud(pi*a/4)*2/pi + 1)/2: R -> (0,1), 1/2 and slope 1/4 at 0")
        case .scaledALF: return i(id: 17, "scaled_alf", 1, .searchSpace, deap: "Salf", c: .helper("scaled_alf"),
                                  "scaled algebraic S-curve (b/sqrt(1+b^2) + 1)/2, b = a/2: R -> (0,1), 1/2 and slope 1/4 at 0")
        case .scaledERF: return i(id: 18, "scaled_erf", 1, .searchSpace, deap: "Serf", c: .helper("scaled_erf"),
                                  "scaled error-function S-curve (erf(sqrt(pi)*a/4) + 1)/2: R -> (0,1), 1/2 and slope 1/4 at 0; NOT the textbook erf")
        case .scaledERFC: return i(id: 19, "scaled_erfc", 1, .searchSpace, deap: "Serfc", c: .helper("scaled_erfc"),
                                   "1 - scaled_erf(a), computed without cancellation")
        case .add: return i(id: 20, "add", 2, .searchSpace, deap: "Add", c: .infix("+"), commutative: true, "a + b")
        case .sub: return i(id: 21, "sub", 2, .searchSpace, deap: "Sub", c: .infix("-"), "a - b")
        case .mul: return i(id: 22, "mul", 2, .searchSpace, deap: "Mul", c: .infix("*"), commutative: true, "a * b")
        case .div: return i(id: 23, "div", 2, .searchSpace, deap: "Div", c: .infix("/"), "a / b")
        case .dot: return i(id: 24, "dot", 2, .searchSpace, .classReduce, deap: "Dot", c: .structural, commutative: true,
                            "sum over the class axis of a * b")
        case .pow: return i(id: 25, "pow", 2, .extra, c: .libm("pow"), "a ^ b (written a ^ b with a constant or param b)")
        case .log1p: return i(id: 26, "log1p", 1, .extra, c: .libm("log1p"), "log(1 + a), accurate for small a")
        case .expm1: return i(id: 27, "expm1", 1, .extra, c: .libm("expm1"), "e^a - 1, accurate for small a")
        case .min: return i(id: 28, "min", 2, .extra, c: .helper("min"), commutative: true, "the smaller of a and b")
        case .max: return i(id: 29, "max", 2, .extra, c: .helper("max"), commutative: true, "the larger of a and b")
        case .select: return i(id: 30, "select", 3, .extra, c: .helper("select"), "b where a > 0, else c")
        case .stopGradient: return i(id: 31, "stop_gradient", 1, .extra, c: .structural, "a, with a zero derivative")
        case .sum: return i(id: 32, "sum", 1, .extra, .classReduce, c: .structural, "sum over the class axis")
        case .logSoftmax: return i(id: 33, "log_softmax", 1, .extra, .classMap, c: .structural, "log(softmax(a)), computed stably")
        case .sign: return i(id: 34, "sign", 1, .helper, c: .helper("sign"), "-1, 0 or 1")
        case .step: return i(id: 35, "step", 1, .helper, c: .helper("step"), "1 where a > 0, else 0")
        case .cosh: return i(id: 36, "cosh", 1, .helper, c: .libm("cosh"), "hyperbolic cosine")
        }
    }

    /// The operators a user can call by name, keyed by that name.
    public static let byName: [String: Op] = {
        var table: [String: Op] = [:]
        for op in Op.allCases where op.info.family != .leaf { table[op.info.name] = op }
        return table
    }()

    /// The operators of CSE-Autoloss's DEAP strings, keyed by their DEAP names.
    public static let byDEAPName: [String: Op] = {
        var table: [String: Op] = [:]
        for op in Op.allCases { if let d = op.info.deapName { table[d] = op } }
        return table
    }()

    public var name: String { info.name }
    public var arity: Int { info.arity }
}

