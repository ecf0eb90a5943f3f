//! The snapcache admin CLI: `snapcache --version`, `snapcache ping [-h host] [-p port]`.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    std::process::exit(run(&args));
}

fn run(args: &[String]) -> i32 {
    match args.first().map(String::as_str) {
        Some("--version") | Some("-v") => {
            println!(
                "snapcache {} (Redis {} compatible)",
                snapcache::VERSION,
                snapcache::REDIS_VERSION
            );
            0
        }
        Some("ping") => ping(&args[1..]),
        _ => {
            eprintln!("usage: snapcache --version | snapcache ping [-h host] [-p port]");
            2
        }
    }
}

fn ping(args: &[String]) -> i32 {
    let mut host = "127.0.0.1".to_string();
    let mut port = "6379".to_string();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match (a.as_str(), it.next()) {
            ("-h", Some(v)) => host = v.clone(),
            ("-p", Some(v)) => port = v.clone(),
            _ => {
                eprintln!("usage: snapcache ping [-h host] [-p port]");
                return 2;
            }
        }
    }
    let addr = format!("{host}:{port}");
    let result = (|| -> std::io::Result<Vec<u8>> {
        let mut s = TcpStream::connect(&addr)?;
        s.set_read_timeout(Some(Duration::from_secs(5)))?;
        s.write_all(b"*1\r\n$4\r\nPING\r\n")?;
        let mut buf = [0u8; 256];
        let n = s.read(&mut buf)?;
        Ok(buf[..n].to_vec())
    })();
    match result {
        Ok(reply) => match snapcache::protocol::reply::parse_frame(&reply) {
            Ok(Some((frame, _))) => {
                println!("{frame}");
                if frame.is_error() {
                    1
                } else {
                    0
                }
            }
            _ => {
                eprintln!("{addr}: malformed reply");
                1
            }
        },
        Err(e) => {
            eprintln!("could not connect to {addr}: {e}");
            1
        }
    }
}
