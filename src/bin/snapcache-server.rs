//! A drop-in `redis-server`: `snapcache-server [config-file] [--name value ...]`.

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    std::process::exit(snapcache::server_main(args));
}
