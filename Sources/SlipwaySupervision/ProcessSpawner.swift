import Glibc

/// Why a program could not be started.
public struct SpawnError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The system's error number.
    public var code: Int32
    /// What could not be done, with the system's reason.
    public var description: String

    /// An error.
    public init(code: Int32, description: String) {
        self.code = code
        self.description = description
    }
}

/// Starts programs with `posix_spawn`: in a session of their own, with default signal dispositions and an empty
/// signal mask (whatever the starting process ignores or blocks), and with no descriptors but the three standard
/// ones.
public enum ProcessSpawner {
    /// Starts `program` with the argument vector `arguments` (`argv[0]` first) and returns its process id.
    ///
    /// Standard input is `/dev/null`; standard output and error are the given descriptors, or `/dev/null`.
    /// `environment` holds `NAME=value` entries; nil passes this process's environment on.
    public static func spawn(
        program: String,
        arguments: [String],
        environment: [String]?,
        standardOutput: Int32? = nil,
        standardError: Int32? = nil,
        workingDirectory: String? = nil
    ) throws(SpawnError) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        for (target, source) in [(Int32(1), standardOutput), (Int32(2), standardError)] {
            if let source {
                posix_spawn_file_actions_adddup2(&actions, source, target)
            } else {
                posix_spawn_file_actions_addopen(&actions, target, "/dev/null", O_WRONLY, 0)
            }
        }
        if let workingDirectory {
            guard let addChdir = GNUExtensions.addChdir else {
                throw SpawnError(code: ENOSYS, description: "cannot change directory: posix_spawn lacks chdir")
            }
            let status = addChdir(&actions, workingDirectory)
            guard status == 0 else { throw failure(status, "working directory \(workingDirectory)") }
        }
        // Descriptors the starting process forgot to mark close-on-exec must not leak into the program.
        if let addClosefrom = GNUExtensions.addClosefrom { _ = addClosefrom(&actions, 3) }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in Int32(1)..<32 where signal != SIGKILL && signal != SIGSTOP { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attributes, &mask)
        let flags = GNUExtensions.setsid | Int32(POSIX_SPAWN_SETSIGDEF) | Int32(POSIX_SPAWN_SETSIGMASK)
        posix_spawnattr_setflags(&attributes, Int16(flags))

        let argv = CStringArray(arguments)
        defer { argv.free() }
        let envp = environment.map(CStringArray.init)
        defer { envp?.free() }
        var pid = pid_t()
        let status: Int32
        if let envp {
            status = posix_spawn(&pid, program, &actions, &attributes, argv.pointers, envp.pointers)
        } else {
            status = posix_spawn(&pid, program, &actions, &attributes, argv.pointers, environ)
        }
        guard status == 0 else { throw failure(status, program) }
        return pid
    }

    /// This process's environment as `NAME=value` entries.
    public static func currentEnvironment() -> [String] {
        var entries: [String] = []
        var cursor = environ
        while let entry = cursor.pointee {
            entries.append(String(cString: entry))
            cursor += 1
        }
        return entries
    }

    private static func failure(_ code: Int32, _ what: String) -> SpawnError {
        SpawnError(code: code, description: "\(what): \(String(cString: strerror(code)))")
    }
}

/// glibc's `posix_spawn` extensions, which the Glibc module does not import: looked up by name at run time.
private enum GNUExtensions {
    typealias Actions = UnsafeMutablePointer<posix_spawn_file_actions_t>
    typealias AddChdir = @convention(c) (Actions, UnsafePointer<CChar>) -> Int32
    typealias AddClosefrom = @convention(c) (Actions, Int32) -> Int32

    /// `POSIX_SPAWN_SETSID`: the child calls `setsid()` (glibc 2.26).
    static let setsid: Int32 = 0x80

    /// `posix_spawn_file_actions_addchdir_np` (glibc 2.29).
    static var addChdir: AddChdir? {
        dlsym(nil, "posix_spawn_file_actions_addchdir_np").map { unsafeBitCast($0, to: AddChdir.self) }
    }

    /// `posix_spawn_file_actions_addclosefrom_np` (glibc 2.34).
    static var addClosefrom: AddClosefrom? {
        dlsym(nil, "posix_spawn_file_actions_addclosefrom_np").map { unsafeBitCast($0, to: AddClosefrom.self) }
    }
}

/// A NULL-terminated array of C strings, freed explicitly.
private struct CStringArray {
    let pointers: [UnsafeMutablePointer<CChar>?]

    init(_ strings: [String]) {
        pointers = strings.map { strdup($0) } + [nil]
    }

    func free() {
        for pointer in pointers { Glibc.free(pointer) }
    }
}
