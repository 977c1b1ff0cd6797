import Foundation
import SlipwayCore
import Subprocess
import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How a hook command ended.
public struct HookProcessResult: Sendable, Equatable {
    /// How it ended.
    public enum Ending: Sendable, Equatable {
        /// It exited with this status.
        case exited(Int32)
        /// A signal ended it.
        case signaled(Int32)
        /// It ran past its timeout and was stopped.
        case timedOut
        /// It could not be started (the program is missing, say).
        case couldNotStart(String)
    }

    /// How it ended.
    public var ending: Ending
    /// The end of what it wrote to standard output and standard error (one stream, in the order written), at most
    /// the limit it was run with (UTF-8, invalid bytes replaced).
    public var output: String
    /// How many bytes it wrote in all.
    public var outputBytes: Int
    /// How long it ran.
    public var duration: Duration

    /// Whether it exited with status 0.
    public var succeeded: Bool { ending == .exited(0) }

    /// A few words on how it ended: `exited with status 3`, `timed out after 30s`.
    public func summary(timeout: Duration) -> String {
        switch ending {
        case .exited(let code): return "exited with status \(code)"
        case .signaled(let signal): return "was ended by signal \(signal)"
        case .timedOut: return "timed out after \(Self.format(timeout))"
        case .couldNotStart(let reason): return "could not start: \(reason)"
        }
    }

    private static func format(_ duration: Duration) -> String {
        let seconds = duration.inSeconds
        return seconds == seconds.rounded() ? "\(Int(seconds))s" : String(format: "%.1fs", seconds)
    }
}

/// Runs hook commands: a program started directly from its argument vector (never through a shell), in its own
/// session, with a bounded run time and a bounded record of its output.
public enum HookProcess {
    /// How long a hook has to exit after SIGTERM at its timeout before it is killed.
    public static let killGrace: Duration = .seconds(5)

    /// Runs `argv` with `environment` added to the controller's, in `workingDirectory` (else `baseDirectory`),
    /// for at most `timeout`, keeping the last `outputLimit` bytes of its output; its standard input is the file
    /// `input` (nothing without one).
    public static func run(
        argv: [String],
        environment: [String: String],
        workingDirectory: String?,
        baseDirectory: String,
        timeout: Duration,
        outputLimit: Int = 8_192,
        input: String? = nil
    ) async -> HookProcessResult {
        let clock = ContinuousClock()
        let started = clock.now
        guard let program = argv.first else {
            return HookProcessResult(ending: .couldNotStart("no program"), output: "", outputBytes: 0, duration: .zero)
        }
        let executable: String
        switch ExecutableResolver.resolve(program, baseDirectory: baseDirectory) {
        case .success(let path): executable = path
        case .failure(let error):
            return HookProcessResult(
                ending: .couldNotStart(error.description),
                output: "",
                outputBytes: 0,
                duration: clock.now - started
            )
        }
        var variables: [Environment.Key: String?] = [:]
        for (key, value) in environment {
            guard let name = Environment.Key(rawValue: key) else { continue }
            variables[name] = value
        }
        var options = PlatformOptions()
        options.createSession = true
        let configuration = Configuration(
            executable: .path(FilePath(executable)),
            arguments: Arguments(Array(argv.dropFirst())),
            environment: .inherit.updating(variables),
            workingDirectory: FilePath(workingDirectory ?? baseDirectory),
            platformOptions: options
        )
        let output = OutputTail(limit: outputLimit)
        let timedOut = Flag()
        let standardInput: FileDescriptor
        do {
            standardInput = try FileDescriptor.open(FilePath(input ?? "/dev/null"), .readOnly)
        } catch {
            return HookProcessResult(
                ending: .couldNotStart("cannot read \(input ?? "/dev/null"): \(error)"),
                output: "",
                outputBytes: 0,
                duration: clock.now - started
            )
        }
        do {
            // Standard error goes into the same pipe as standard output (2>&1), so the kept end is what the hook
            // wrote last, in the order it wrote it.
            let result = try await Subprocess.run(
                configuration,
                input: .fileDescriptor(standardInput, closeAfterSpawningProcess: true),
                output: .sequence,
                error: .combinedWithOutput
            ) { execution in
                await withTaskGroup(of: Bool.self) { group in
                    group.addTask {
                        do {
                            for try await chunk in execution.standardOutput {
                                chunk.withUnsafeBytes { output.append($0) }
                            }
                        } catch {}
                        return true
                    }
                    group.addTask {
                        do {
                            try await Task.sleep(for: timeout)
                        } catch {
                            return false
                        }
                        timedOut.set()
                        await execution.teardown(using: [
                            .send(signal: .terminate, toProcessGroup: true, allowedDurationToNextStep: killGrace)
                        ])
                        return false
                    }
                    // The output ends when the process (and its children) exit.
                    while let finished = await group.next() {
                        if finished { break }
                    }
                    group.cancelAll()
                }
                // When the caller gives up on the hook, the hook and its children stop too.
                if Task.isCancelled {
                    await execution.teardown(using: [
                        .send(signal: .terminate, toProcessGroup: true, allowedDurationToNextStep: killGrace)
                    ])
                }
            }
            let ending: HookProcessResult.Ending
            if timedOut.isSet {
                ending = .timedOut
            } else {
                switch result.terminationStatus {
                case .exited(let code): ending = .exited(code)
                case .signaled(let signal): ending = .signaled(signal)
                }
            }
            return HookProcessResult(
                ending: ending,
                output: output.text,
                outputBytes: output.total,
                duration: clock.now - started
            )
        } catch {
            let reason = (error as? SubprocessError)?.description ?? String(describing: error)
            return HookProcessResult(
                ending: .couldNotStart(reason),
                output: output.text,
                outputBytes: output.total,
                duration: clock.now - started
            )
        }
    }
}

/// The last bytes a process wrote, filled by the task reading its output and read once it has ended.
private final class OutputTail: @unchecked Sendable {
    private let lock = NSLock()
    private let limit: Int
    private var bytes: [UInt8] = []
    private(set) var total = 0

    init(limit: Int) {
        self.limit = max(0, limit)
    }

    func append(_ buffer: UnsafeRawBufferPointer) {
        lock.lock()
        defer { lock.unlock() }
        total += buffer.count
        bytes.append(contentsOf: buffer.suffix(limit))
        if bytes.count > limit { bytes.removeFirst(bytes.count - limit) }
    }

    var text: String {
        lock.lock()
        defer { lock.unlock() }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// A fact that becomes true once.
private final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false

    func set() {
        lock.lock()
        value = true
        lock.unlock()
    }

    var isSet: Bool {
        lock.lock()
        defer { lock.unlock() }
        return value
    }
}
