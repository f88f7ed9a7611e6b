// The shape of a layer's cache update that bufferization copies: keys and
// values as two slices of one cache, each written, inserted back one after
// the other. kv-cache-in-place.test checks that its checks catch the copy.
func.func @two_halves(%cache: tensor<2x2x?x2x16xf32>, %row: tensor<2x16xf32>, %p: index) -> tensor<2x2x?x2x16xf32> {
  %c2 = arith.constant 2 : index
  %s = tensor.dim %cache, %c2 : tensor<2x2x?x2x16xf32>
  %k = tensor.extract_slice %cache[0, 0, 0, 0, 0] [1, 1, %s, 2, 16] [1, 1, 1, 1, 1] : tensor<2x2x?x2x16xf32> to tensor<?x2x16xf32>
  %v = tensor.extract_slice %cache[0, 1, 0, 0, 0] [1, 1, %s, 2, 16] [1, 1, 1, 1, 1] : tensor<2x2x?x2x16xf32> to tensor<?x2x16xf32>
  %k1 = tensor.insert_slice %row into %k[%p, 0, 0] [1, 2, 16] [1, 1, 1] : tensor<2x16xf32> into tensor<?x2x16xf32>
  %v1 = tensor.insert_slice %row into %v[%p, 0, 0] [1, 2, 16] [1, 1, 1] : tensor<2x16xf32> into tensor<?x2x16xf32>
  %c1 = tensor.insert_slice %k1 into %cache[0, 0, 0, 0, 0] [1, 1, %s, 2, 16] [1, 1, 1, 1, 1] : tensor<?x2x16xf32> into tensor<2x2x?x2x16xf32>
  %c3 = tensor.insert_slice %v1 into %c1[0, 1, 0, 0, 0] [1, 1, %s, 2, 16] [1, 1, 1, 1, 1] : tensor<?x2x16xf32> into tensor<2x2x?x2x16xf32>
  return %c3 : tensor<2x2x?x2x16xf32>
}
