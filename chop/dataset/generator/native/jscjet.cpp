// machop's jet helper for the JSC generator: leading anti-kT jet, mMDT grooming, 16 features.
//
// Clustering and grooming use FastJet / fjcontrib (SoftDrop beta=0, z_cut=0.1, R0=1.0). The
// energy-correlator features are machop's own O(n^3) loops over the groomed constituents, so the
// generator does not depend on fjcontrib's EnergyCorrelator classes; tests compare the two
// (ecf_reference.cpp) to <= 1e-10 relative. Called from Python through ctypes.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "fastjet/ClusterSequence.hh"
#include "fastjet/PseudoJet.hh"
#include "fastjet/contrib/SoftDrop.hh"

namespace {

const int N_OUT = 20;  // 16 features, then j_pt, j_eta, j_mass, j_nconst_mmdt

// FastJet prints its banner on stdout at the first clustering; the generator's stdout is the user's.
const bool banner_silenced = [] {
  fastjet::ClusterSequence::set_fastjet_banner_stream(nullptr);
  return true;
}();

// Squared rapidity-azimuth distance, computed exactly as PseudoJet::squared_distance does.
double delta_r2(double y1, double phi1, double y2, double phi2) {
  double dphi = std::fabs(phi1 - phi2);
  if (dphi > M_PI) dphi = 2 * M_PI - dphi;
  double dy = y1 - y2;
  return dy * dy + dphi * dphi;
}

// Energy-correlator ratios of one groomed jet from its constituents' pT, rapidity and phi, indexed
// by beta (c1 for beta = 0, 1, 2; the others for beta = 1, 2; index 0 unused there). One pass over
// all triplets fills ECF(2), ECF(3) and the generalised 1e3 / 2e3 sums at once.
void correlators(const std::vector<double>& pt, const std::vector<double>& y, const std::vector<double>& phi,
                 double* c1, double* c2, double* d2, double* d2a1, double* m2, double* n2) {
  const size_t n = pt.size();
  std::vector<double> dr2(n * n, 0.0);
  for (size_t i = 0; i < n; ++i)
    for (size_t j = i + 1; j < n; ++j) dr2[i * n + j] = dr2[j * n + i] = delta_r2(y[i], phi[i], y[j], phi[j]);

  double ecf1 = 0.0;
  for (size_t i = 0; i < n; ++i) ecf1 += pt[i];
  // ecf2[b] for beta = 0, 1, 2; ecf3[b] for beta = 1, 2 (index 0 unused).
  double ecf2[3] = {0, 0, 0}, ecf3[3] = {0, 0, 0};
  double e3v1[3] = {0, 0, 0}, e3v2[3] = {0, 0, 0};  // un-normalised 1e3 and 2e3, beta = 1, 2
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = i + 1; j < n; ++j) {
      const double pij = pt[i] * pt[j];
      const double dij = dr2[i * n + j];
      const double rij = std::sqrt(dij);
      ecf2[0] += pij;
      ecf2[1] += pij * rij;
      ecf2[2] += pij * dij;
      for (size_t k = j + 1; k < n; ++k) {
        const double pijk = pij * pt[k];
        const double dik = dr2[i * n + k], djk = dr2[j * n + k];
        const double rik = std::sqrt(dik), rjk = std::sqrt(djk);
        ecf3[1] += pijk * rij * rik * rjk;
        ecf3[2] += pijk * dij * dik * djk;
        double s[3] = {dij, dik, djk};
        std::sort(s, s + 3);
        const double r0 = std::sqrt(s[0]), r1 = std::sqrt(s[1]);
        e3v1[1] += pijk * r0;
        e3v1[2] += pijk * s[0];
        e3v2[1] += pijk * r0 * r1;
        e3v2[2] += pijk * s[0] * s[1];
      }
    }
  }
  const double e1sq = ecf1 * ecf1, e1cube = e1sq * ecf1;
  for (int b = 0; b <= 2; ++b) c1[b] = ecf2[b] / e1sq;
  for (int b = 1; b <= 2; ++b) {
    const double beta = b;
    c2[b] = ecf3[b] * ecf1 / (ecf2[b] * ecf2[b]);
    d2[b] = ecf3[b] * e1cube / (ecf2[b] * ecf2[b] * ecf2[b]);
    const double e2 = ecf2[b] / e1sq;          // 1e2^(beta), normalised
    const double e3a1 = ecf3[1] / e1cube;      // 3e3^(alpha=1), normalised
    d2a1[b] = (b == 1) ? d2[1] : e3a1 / std::pow(e2, 3.0 / beta);
    m2[b] = (e3v1[b] / e1cube) / e2;
    n2[b] = (e3v2[b] / e1cube) / (e2 * e2);
  }
}

}  // namespace

extern "C" {

int jsc_n_out() { return N_OUT; }

// Clusters the event's particles (n x {px, py, pz, E}), keeps the leading anti-kT jet of radius R,
// and writes the 16 JSC features + j_pt, j_eta, j_mass, j_nconst_mmdt into out. Returns 1 when the
// leading jet exists and pt_min <= pT < pt_max (pt_max <= 0: no upper bound), else 0.
int jsc_features(const double* p4, int n, double R, double pt_min, double pt_max, double* out) {
  std::vector<fastjet::PseudoJet> particles;
  particles.reserve(n);
  for (int i = 0; i < n; ++i) particles.emplace_back(p4[4 * i], p4[4 * i + 1], p4[4 * i + 2], p4[4 * i + 3]);
  fastjet::JetDefinition definition(fastjet::antikt_algorithm, R);
  fastjet::ClusterSequence sequence(particles, definition);
  std::vector<fastjet::PseudoJet> jets = fastjet::sorted_by_pt(sequence.inclusive_jets(0.0));
  if (jets.empty()) return 0;
  const fastjet::PseudoJet& jet = jets[0];
  if (jet.pt() < pt_min || (pt_max > 0 && jet.pt() >= pt_max)) return 0;

  const std::vector<fastjet::PseudoJet> constituents = jet.constituents();
  double zlogz = 0.0;
  const double e_jet = jet.E();
  for (const auto& c : constituents) {
    const double z = c.E() / e_jet;
    if (z > 0) zlogz += z * std::log(z);
  }
  fastjet::contrib::SoftDrop mmdt(0.0, 0.1, 1.0);
  const fastjet::PseudoJet groomed = mmdt(jet);
  const std::vector<fastjet::PseudoJet> kept = groomed.constituents();
  std::vector<double> pt, y, phi;
  for (const auto& c : kept) {
    pt.push_back(c.pt());
    y.push_back(c.rap());
    phi.push_back(c.phi());
  }
  double c1[3], c2[3], d2[3], d2a1[3], m2[3], n2[3];
  correlators(pt, y, phi, c1, c2, d2, d2a1, m2, n2);
  const double values[N_OUT] = {zlogz,    c1[0],   c1[1], c1[2], c2[1],   c2[2],
                                d2[1],    d2[2],   d2a1[1], d2a1[2], m2[1], m2[2],
                                n2[1],    n2[2],   groomed.m(), static_cast<double>(constituents.size()),
                                jet.pt(), jet.eta(), jet.m(), static_cast<double>(kept.size())};
  std::copy(values, values + N_OUT, out);
  return 1;
}

}  // extern "C"
