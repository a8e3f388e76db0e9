// `kidx-fuzz`: built by `Tools/fuzz` with `-sanitize=fuzzer -D FUZZING`, it hands the target
// to libFuzzer's driver; a plain build replays input files through it instead:
//     KIDX_FUZZ_TARGET=query .build/debug/KidxFuzz FILE…
import Foundation
import Kidx

#if FUZZING
/// libFuzzer's entry for programs that have their own `main` (SwiftPM gives executables one).
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

/// The entry libFuzzer's library refers to; the driver above is handed the same function.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    _ = FuzzEntry.target.run(UnsafeBufferPointer(start: data, count: size))
    return 0
}
#endif

@main
enum FuzzEntry {
    /// The target named by `KIDX_FUZZ_TARGET` (query, documents or index).
    static let target: FuzzTarget = {
        let name = ProcessInfo.processInfo.environment["KIDX_FUZZ_TARGET"] ?? ""
        guard let target = FuzzTarget(rawValue: name) else {
            FileHandle.standardError.write(Data("set KIDX_FUZZ_TARGET to one of: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))\n".utf8))
            exit(2)
        }
        return target
    }()

    static func main() {
        _ = target
        #if FUZZING
        var argc = CommandLine.argc
        var argv = Optional(CommandLine.unsafeArgv)
        exit(LLVMFuzzerRunDriver(&argc, &argv, fuzzOneInput))
        #else
        for path in CommandLine.arguments.dropFirst() {
            guard let data = FileManager.default.contents(atPath: path) else {
                print("\(path): cannot read")
                continue
            }
            let outcome = data.withUnsafeBytes { target.run($0.bindMemory(to: UInt8.self)) }
            print("\(path): \(outcome)")
        }
        #endif
    }
}
