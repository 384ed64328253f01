// Reference for machop's feature code: the same jet and grooming, with every energy-correlator
// feature taken from fjcontrib's EnergyCorrelator classes themselves. Used only by the tests.
//
// stdin: "R pt_min pt_max", then per event "n" followed by n lines "px py pz E".
// stdout: one line per event, "0" if no jet passes, else "1" and the 20 values of jsc_features.
#include <cstdio>
#include <iostream>
#include <vector>

#include "fastjet/ClusterSequence.hh"
#include "fastjet/contrib/EnergyCorrelator.hh"
#include "fastjet/contrib/SoftDrop.hh"

using namespace fastjet;
using namespace fastjet::contrib;

int main() {
  ClusterSequence::set_fastjet_banner_stream(nullptr);  // stdout carries the results
  double R, pt_min, pt_max;
  if (!(std::cin >> R >> pt_min >> pt_max)) return 1;
  int n;
  while (std::cin >> n) {
    std::vector<PseudoJet> particles(n);
    for (int i = 0; i < n; ++i) {
      double px, py, pz, e;
      std::cin >> px >> py >> pz >> e;
      particles[i] = PseudoJet(px, py, pz, e);
    }
    ClusterSequence sequence(particles, JetDefinition(antikt_algorithm, R));
    std::vector<PseudoJet> jets = sorted_by_pt(sequence.inclusive_jets(0.0));
    if (jets.empty() || jets[0].pt() < pt_min || (pt_max > 0 && jets[0].pt() >= pt_max)) {
      std::printf("0\n");
      continue;
    }
    const PseudoJet jet = jets[0];
    double zlogz = 0.0;
    for (const PseudoJet& c : jet.constituents()) {
      const double z = c.E() / jet.E();
      if (z > 0) zlogz += z * std::log(z);
    }
    const PseudoJet g = SoftDrop(0.0, 0.1, 1.0)(jet);
    const double v[20] = {zlogz,
                          EnergyCorrelatorC1(0.0)(g), EnergyCorrelatorC1(1.0)(g), EnergyCorrelatorC1(2.0)(g),
                          EnergyCorrelatorC2(1.0)(g), EnergyCorrelatorC2(2.0)(g),
                          EnergyCorrelatorD2(1.0)(g), EnergyCorrelatorD2(2.0)(g),
                          EnergyCorrelatorGeneralizedD2(1.0, 1.0)(g), EnergyCorrelatorGeneralizedD2(1.0, 2.0)(g),
                          EnergyCorrelatorM2(1.0)(g), EnergyCorrelatorM2(2.0)(g),
                          EnergyCorrelatorN2(1.0)(g), EnergyCorrelatorN2(2.0)(g),
                          g.m(), static_cast<double>(jet.constituents().size()),
                          jet.pt(), jet.eta(), jet.m(), static_cast<double>(g.constituents().size())};
    std::printf("1");
    for (double x : v) std::printf(" %.17g", x);
    std::printf("\n");
  }
  return 0;
}
