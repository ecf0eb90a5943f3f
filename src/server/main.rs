//! The `snapcache-server` program: redis-server's command line, log and
//! lifecycle around an [`Engine`].

use super::Engine;
use crate::config::Config;

fn version_line() -> String {
    format!(
        "snapcache server v={} redis_version={} malloc={} bits=64",
        crate::VERSION,
        crate::REDIS_VERSION,
        if cfg!(feature = "jemalloc") {
            "jemalloc"
        } else {
            "libc"
        }
    )
}

fn usage() {
    eprintln!("Usage: ./snapcache-server [/path/to/redis.conf] [options] [-]");
    eprintln!("       ./snapcache-server - (read config from stdin)");
    eprintln!("       ./snapcache-server -v or --version");
    eprintln!("       ./snapcache-server -h or --help");
    eprintln!();
    eprintln!("Examples:");
    eprintln!("       ./snapcache-server (run the server with default conf)");
    eprintln!("       ./snapcache-server /etc/redis/6379.conf");
    eprintln!("       ./snapcache-server --port 7777");
    eprintln!("       ./snapcache-server /etc/myredis.conf --loglevel verbose -");
}

/// Runs the server binary; returns the process exit code.
pub fn run(args: Vec<String>) -> i32 {
    if args.len() == 1 && (args[0] == "-v" || args[0] == "--version") {
        println!("{}", version_line());
        return 0;
    }
    if args.len() == 1 && (args[0] == "-h" || args[0] == "--help") {
        usage();
        return 0;
    }
    let config = match Config::from_args(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return 1;
        }
    };
    if let Err(e) = super::log::init(&config.logfile, config.loglevel.name()) {
        eprintln!("Can't open the log file: {e}");
        return 1;
    }
    let pid = std::process::id();
    tracing::info!("oO0OoO0OoO0Oo snapcache is starting oO0OoO0OoO0Oo");
    tracing::info!(
        "snapcache version={}, redis_version={}, bits=64, pid={}, just started",
        crate::VERSION,
        crate::REDIS_VERSION,
        pid
    );
    match &config.config_file {
        Some(p) => tracing::info!("Configuration loaded from {}", p.display()),
        None => tracing::warn!("Warning: no config file specified, using the default config. In order to specify a config file use snapcache-server /path/to/redis.conf"),
    }
    if config.daemonize {
        tracing::warn!("daemonize yes is not supported yet; running in the foreground");
    }
    if !config.dir.as_os_str().is_empty() {
        if let Err(e) = std::env::set_current_dir(&config.dir) {
            tracing::warn!("Can't chdir to '{}': {e}", config.dir.display());
            return 1;
        }
    }
    let pidfile = config.pidfile.clone();
    if let Some(p) = &pidfile {
        if let Err(e) = std::fs::write(p, format!("{pid}\n")) {
            tracing::warn!("Failed to write PID file: {e}");
        }
    }
    let port = config.port;
    let mut engine = Engine::new(config);
    engine.config_file = engine.config.config_file.clone();
    tracing::info!(
        "snapcache {} (Redis {} compatible) 64 bit, standalone mode, port {}, PID: {}",
        crate::VERSION,
        crate::REDIS_VERSION,
        port,
        pid
    );
    tracing::info!("Server initialized");
    // "Ready to accept connections" comes once the dataset is loaded
    // (server::persist::load_at_startup); clients connecting before get
    // -LOADING.
    let result = super::run_with_inbox(engine, None, |addrs| {
        for a in addrs {
            tracing::debug!("listening on {a}");
        }
    });
    let code = match result {
        Ok(_) => {
            tracing::info!("snapcache is now ready to exit, bye bye...");
            0
        }
        // Already logged: Redis's "Fatal error loading the DB" lines.
        Err(e)
            if e.get_ref()
                .is_some_and(|r| r.is::<super::persist::LoadFailed>()) =>
        {
            1
        }
        Err(e) => {
            tracing::warn!(
                "Warning: Could not create server TCP listening socket *:{port}: bind: {e}"
            );
            tracing::warn!("Failed listening on port {port} (tcp), aborting.");
            1
        }
    };
    if let Some(p) = &pidfile {
        let _ = std::fs::remove_file(p);
    }
    code
}
