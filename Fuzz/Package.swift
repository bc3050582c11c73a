// swift-tools-version:6.0
import PackageDescription

// libFuzzer targets for lossc's front end, in a package of their own so that the main
// `swift build` / `swift test` never see the fuzzer flags. Build (Fuzz/run.sh does this):
//
//     swift build -c release -Xswiftc -sanitize=fuzzer,address
//
// Each target's main.swift defines LLVMFuzzerTestOneInput and hands it to libFuzzer's
// LLVMFuzzerRunDriver from its top-level code. (Not `-parse-as-library` with libFuzzer's own
// main(), as swift-protobuf does: SwiftPM 6 links executables with `--defsym main=<module>_main`,
// which then names a symbol nobody defines.)
let package = Package(
    name: "lossc-fuzz",
    dependencies: [
        // Named, so that the product reference below does not depend on the checkout's directory name.
        .package(name: "lossc", path: ".."),
    ],
    targets: [
        // The declaration of LLVMFuzzerRunDriver.
        .target(name: "CFuzzerDriver"),
        // What both targets do with a valid formula, and the checks on a diagnostic.
        .target(name: "FuzzSupport", dependencies: [.product(name: "LossDSL", package: "lossc"), .product(name: "LossRanking", package: "lossc")]),
        // bytes -> parse, lower, canonicalize, stabilize, differentiate, evaluate (every kind).
        .executableTarget(name: "fuzz-parser", dependencies: ["FuzzSupport", "CFuzzerDriver", .product(name: "LossDSL", package: "lossc")]),
        // bytes -> DEAPImport.formula for every kind (and, when valid, the same pipeline).
        .executableTarget(name: "fuzz-deap", dependencies: ["FuzzSupport", "CFuzzerDriver", .product(name: "LossDSL", package: "lossc")]),
    ],
    swiftLanguageModes: [.v6]
)
