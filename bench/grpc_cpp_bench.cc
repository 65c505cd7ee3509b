/* SPDX-License-Identifier: Apache-2.0 */
// The anchor of bench/run's RA-gRPC figures: the same Greeter (proto/greeter.proto) served and
// called with gRPC C++ (Debian's libgrpc++-dev, callback API: the async server and client of
// gRPC >= 1.48) over TLS. bench/run builds it when libgrpc++-dev is installed; it is not part of
// the library or its tests.
//   grpc_cpp_bench server CERT KEY PORT_FILE
//   grpc_cpp_bench client ROOT_CERT HOST:PORT IN_FLIGHT SECONDS   -> JSON on stdout
//   grpc_cpp_bench idle ROOT_CERT HOST:PORT N HOLD_SECONDS        -> "ready" once connected
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <time.h>

#include "greeter.grpc.pb.h"

using Clock = std::chrono::steady_clock;

static std::string slurp(const char *path)
{
    std::ifstream f(path);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

class Greeter final : public ratls::Greeter::CallbackService {
    grpc::ServerUnaryReactor *SayHello(grpc::CallbackServerContext *ctx,
                                       const ratls::HelloRequest *req,
                                       ratls::HelloReply *reply) override
    {
        reply->set_message("Hello " + req->name());
        auto *r = ctx->DefaultReactor();
        r->Finish(grpc::Status::OK);
        return r;
    }
};

static int server(const char *cert, const char *key, const char *port_file)
{
    grpc::SslServerCredentialsOptions o;
    o.pem_key_cert_pairs.push_back({slurp(key), slurp(cert)});
    Greeter svc;
    grpc::ServerBuilder b;
    int port = 0;
    b.AddListeningPort("127.0.0.1:0", grpc::SslServerCredentials(o), &port);
    b.RegisterService(&svc);
    auto srv = b.BuildAndStart();
    {
        std::ofstream f(std::string(port_file) + ".tmp");
        f << port;
    }
    std::rename((std::string(port_file) + ".tmp").c_str(), port_file);
    srv->Wait();
    return 0;
}

static std::shared_ptr<grpc::Channel> channel(const char *root, const char *target, int id)
{
    grpc::SslCredentialsOptions o;
    o.pem_root_certs = slurp(root);
    grpc::ChannelArguments args;
    args.SetSslTargetNameOverride("localhost");
    args.SetInt("ccz.bench.channel", id); // a connection of its own
    return grpc::CreateCustomChannel(target, grpc::SslCredentials(o), args);
}

struct Run {
    std::unique_ptr<ratls::Greeter::Stub> stub;
    Clock::time_point end;
    std::mutex mu;
    std::condition_variable cv;
    int active = 0;
    long failed = 0;
    std::vector<double> lat;
};

struct Call {
    grpc::ClientContext ctx;
    ratls::HelloRequest req;
    ratls::HelloReply reply;
    Clock::time_point start;
};

static void issue(Run *r)
{
    auto *c = new Call;
    c->req.set_name("bench");
    c->start = Clock::now();
    r->stub->async()->SayHello(&c->ctx, &c->req, &c->reply, [r, c](grpc::Status s) {
        auto now = Clock::now();
        bool again;
        {
            std::lock_guard<std::mutex> g(r->mu);
            if (s.ok() && c->reply.message() == "Hello bench")
                r->lat.push_back(std::chrono::duration<double, std::micro>(now - c->start).count());
            else
                r->failed++;
            again = now < r->end;
        }
        // the call is deleted before the last callback tells the waiting thread: once it is
        // told, main tears down the stub and channel, and nothing here may touch them
        delete c;
        if (again) {
            issue(r);
            return;
        }
        std::lock_guard<std::mutex> g(r->mu);
        if (--r->active == 0)
            r->cv.notify_all();
    });
}

static double pct(std::vector<double> &v, double p)
{
    if (v.empty())
        return 0;
    size_t i = std::min(v.size() - 1, (size_t)(p * (double)v.size()));
    return v[i];
}

static int client(const char *root, const char *target, int inflight, double seconds)
{
    Run r;
    r.stub = ratls::Greeter::NewStub(channel(root, target, 0));
    { // connect and warm up
        grpc::ClientContext ctx;
        ratls::HelloRequest q;
        ratls::HelloReply a;
        q.set_name("warm");
        if (!r.stub->SayHello(&ctx, q, &a).ok()) {
            std::fprintf(stderr, "grpc_cpp_bench: the first call failed\n");
            return 1;
        }
    }
    r.lat.reserve(1 << 20);
    struct timespec c0, c1;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
    auto start = Clock::now();
    r.end = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
    r.active = inflight;
    for (int i = 0; i < inflight; i++)
        issue(&r);
    {
        std::unique_lock<std::mutex> g(r.mu);
        r.cv.wait(g, [&] { return r.active == 0; });
    }
    double el = std::chrono::duration<double>(Clock::now() - start).count();
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
    double cpu = (double)(c1.tv_sec - c0.tv_sec) + (double)(c1.tv_nsec - c0.tv_nsec) / 1e9;
    std::sort(r.lat.begin(), r.lat.end());
    std::printf("{\"calls\": %zu, \"failed\": %ld, \"calls_per_s\": %.0f, \"p50_us\": %.0f, "
                "\"p99_us\": %.0f, \"cpu_s\": %.3f}\n",
                r.lat.size(), r.failed, (double)r.lat.size() / el, pct(r.lat, 0.50),
                pct(r.lat, 0.99), cpu);
    std::fflush(stdout);
    long failed = r.failed;
    r.stub.reset();
    return failed ? 1 : 0;
}

static int idle(const char *root, const char *target, int n, int hold)
{
    std::vector<std::shared_ptr<grpc::Channel>> chans;
    for (int i = 0; i < n; i++) {
        auto ch = channel(root, target, i + 1);
        auto stub = ratls::Greeter::NewStub(ch);
        grpc::ClientContext ctx;
        ratls::HelloRequest q;
        ratls::HelloReply a;
        q.set_name("idle");
        if (!stub->SayHello(&ctx, q, &a).ok()) {
            std::fprintf(stderr, "grpc_cpp_bench: connection %d failed\n", i);
            return 1;
        }
        chans.push_back(ch);
    }
    std::printf("ready\n");
    std::fflush(stdout);
    std::this_thread::sleep_for(std::chrono::seconds(hold));
    return 0;
}

int main(int argc, char **argv)
{
    std::string m = argc > 1 ? argv[1] : "";
    if (m == "server" && argc == 5)
        return server(argv[2], argv[3], argv[4]);
    if (m == "client" && argc == 6)
        return client(argv[2], argv[3], std::atoi(argv[4]), std::atof(argv[5]));
    if (m == "idle" && argc == 6)
        return idle(argv[2], argv[3], std::atoi(argv[4]), std::atoi(argv[5]));
    std::fprintf(stderr, "usage: grpc_cpp_bench server CERT KEY PORT_FILE | client ROOT HOST:PORT "
                         "IN_FLIGHT SECONDS | idle ROOT HOST:PORT N HOLD_SECONDS\n");
    return 2;
}
