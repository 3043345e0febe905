//! A name server of the test's own on loopback (UDP): it answers `A` queries for the names the
//! test sets, with a TTL of one second, so a test can move a backend's name to another address
//! and watch gateways follow.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{rdata::A, RData, Record, RecordType};
use tokio::net::UdpSocket;

/// The TTL of every answer.
pub const TTL_SECONDS: u32 = 1;

/// A running name server; it stops when dropped.
pub struct DnsServer {
    pub addr: SocketAddr,
    names: Arc<Mutex<HashMap<String, Ipv4Addr>>>,
    queries: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl DnsServer {
    pub async fn start() -> DnsServer {
        let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = socket.local_addr().unwrap();
        let names: Arc<Mutex<HashMap<String, Ipv4Addr>>> = Arc::default();
        let queries = Arc::new(AtomicUsize::new(0));
        let task = tokio::spawn(answer(socket, names.clone(), queries.clone()));
        DnsServer {
            addr,
            names,
            queries,
            task,
        }
    }

    /// From now on `name` (`backend.test`) resolves to `address`.
    pub fn set(&self, name: &str, address: Ipv4Addr) {
        let name = format!("{}.", name.trim_end_matches('.').to_ascii_lowercase());
        self.names.lock().unwrap().insert(name, address);
    }

    /// How many `A` queries came in so far.
    pub fn a_queries(&self) -> usize {
        self.queries.load(Ordering::SeqCst)
    }
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn answer(
    socket: UdpSocket,
    names: Arc<Mutex<HashMap<String, Ipv4Addr>>>,
    queries: Arc<AtomicUsize>,
) {
    let mut buf = vec![0u8; 4096];
    loop {
        let Ok((len, peer)) = socket.recv_from(&mut buf).await else {
            continue;
        };
        let Ok(request) = Message::from_vec(&buf[..len]) else {
            continue;
        };
        let mut response = Message::response(request.metadata.id, request.metadata.op_code);
        response.metadata.recursion_desired = request.metadata.recursion_desired;
        response.metadata.recursion_available = true;
        response.metadata.authoritative = true;
        let mut known = false;
        for query in &request.queries {
            let name = query.name().to_ascii().to_ascii_lowercase();
            let address = names.lock().unwrap().get(&name).copied();
            known |= address.is_some();
            if query.query_type() == RecordType::A {
                queries.fetch_add(1, Ordering::SeqCst);
                if let Some(address) = address {
                    response.add_answer(Record::from_rdata(
                        query.name().clone(),
                        TTL_SECONDS,
                        RData::A(A(address)),
                    ));
                }
            }
            response.add_query(query.clone());
        }
        if !known {
            response.metadata.response_code = ResponseCode::NXDomain;
        }
        if let Ok(bytes) = response.to_vec() {
            let _ = socket.send_to(&bytes, peer).await;
        }
    }
}
